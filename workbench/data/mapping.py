"""Bring-your-own panels: map a file's columns onto the contract, as declared in the experiment."""

from __future__ import annotations

import pandas as pd

from workbench.data import messages as msg
from workbench.data.contract import AREA, AREA_NAME, PERIOD, Covariate, Frequency, PanelSpec
from workbench.data.findings import Finding
from workbench.data.findings import from_message as _finding
from workbench.data.periods import parse_periods
from workbench.data.sources import FileSource, PeriodParts


def _roles(source: FileSource) -> dict[str, str]:
    """Every file column the mapping names, keyed by where in the YAML it is named."""
    columns = source.columns
    roles = {"data.file.columns.area": columns.area}
    if isinstance(columns.period, PeriodParts):
        for part in ("year", "quarter", "month"):
            if getattr(columns.period, part):
                roles[f"data.file.columns.period.{part}"] = getattr(columns.period, part)
    else:
        roles["data.file.columns.period"] = columns.period
    if columns.area_name:
        roles["data.file.columns.area_name"] = columns.area_name
    roles |= {f"data.file.columns.targets.{k}": v for k, v in columns.target_map.items()}
    roles |= {f"data.file.columns.covariates.{k}": v.column for k, v in columns.covariate_map.items()}
    roles |= {f"data.file.columns.static.{k}": v for k, v in columns.static_map.items()}
    return roles


def _period_text(raw: pd.DataFrame, period: str | PeriodParts) -> pd.Series:
    if isinstance(period, str):
        return raw[period]
    year = raw[period.year].astype("string").str.strip()
    if period.quarter:
        quarter = raw[period.quarter].astype("string").str.strip().str.upper().str.removeprefix("Q")
        return year + "Q" + quarter
    return year + "-" + raw[period.month].astype("string").str.strip().str.zfill(2)


def map_columns(raw: pd.DataFrame, source: FileSource) -> tuple[pd.DataFrame, PanelSpec | None, list[Finding]]:
    """The contract frame and spec for `raw`, or findings explaining why it cannot be mapped."""
    found = ", ".join(raw.columns)
    missing = [
        _finding(msg.MAPPED_COLUMN_MISSING, column=col, role=role, found=found)
        for role, col in _roles(source).items()
        if col not in raw.columns
    ]
    if missing:
        return raw, None, missing
    columns = source.columns
    declared = Frequency.parse(source.frequency) if source.frequency else None
    period_label = (
        columns.period
        if isinstance(columns.period, str)
        else f"{columns.period.year}+" + (columns.period.quarter or columns.period.month or "")
    )
    text = _period_text(raw, columns.period)
    parsed = parse_periods(text, frequency=declared)
    findings: list[Finding] = []
    if parsed.mixed:
        found_freqs = {f for f in parsed.mixed if f != declared} if declared else set(parsed.mixed)
        if declared and len(parsed.mixed) == 1 and found_freqs:
            freq, example = next(iter(parsed.mixed.items()))
            findings.append(
                _finding(
                    msg.FREQUENCY_MISMATCH,
                    column=period_label,
                    found=freq.label,
                    example=example,
                    declared=declared.label,
                )
            )
        else:
            examples = ", ".join(f"{f.label} ('{v}')" for f, v in parsed.mixed.items())
            findings.append(_finding(msg.MIXED_FREQUENCY, column=period_label, examples=examples))
    elif parsed.unparseable.any():
        bad = text[parsed.unparseable]
        findings.append(
            _finding(msg.UNPARSEABLE_PERIOD, column=period_label, n=len(bad), example=str(bad.iloc[0]), rows=bad.index)
        )
    if findings:
        return raw, None, findings

    frame = pd.DataFrame(index=raw.index)
    frame[AREA] = raw[columns.area].astype("string").str.strip().astype(str).where(raw[columns.area].notna())
    frame[PERIOD] = parsed.periods
    static = dict(columns.static_map)
    if columns.area_name:
        frame[AREA_NAME] = raw[columns.area_name]
        static = {AREA_NAME: columns.area_name, **static}
    for name, column in columns.target_map.items():
        frame[name] = raw[column]
    for name, covariate in columns.covariate_map.items():
        frame[name] = raw[covariate.column]
    for name, column in columns.static_map.items():
        frame[name] = raw[column]
    spec = PanelSpec(
        frequency=parsed.frequency or declared or Frequency.QUARTER,
        targets=tuple(columns.target_map),
        covariates=tuple(
            Covariate(n, publication_lag=c.publication_lag, count=c.count) for n, c in columns.covariate_map.items()
        ),
        static=tuple(static),
        groups=tuple(columns.groups),
        area_code_pattern=source.area_code_pattern,
        numeric_static=columns.numeric_static,
        max_count=source.max_count,
        missing_covariates=source.missing_covariates,
        rates=tuple(columns.rates),
    )
    return frame, spec, []
