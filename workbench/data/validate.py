"""Check a panel against the contract and return findings; never raises for bad data.

Column-level rules (presence, types, non-negative counts, area-code format, unique keys) are a
pandera schema built from the `PanelSpec`; the rules about a series as a whole (gaps, static
attributes that change, a target with no values) are checked here on top of it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from workbench.data import messages as msg
from workbench.data.contract import AREA, PERIOD, PanelSpec
from workbench.data.findings import Finding
from workbench.data.findings import from_message as _finding


def panel_schema(spec: PanelSpec) -> pa.DataFrameSchema:
    """The pandera schema of a panel with this spec."""
    counts = {*spec.targets, *(c.name for c in spec.covariates if c.count)}
    columns: dict[str, pa.Column] = {
        AREA: pa.Column(str, pa.Check.str_matches(spec.area_code_pattern), nullable=False),
        PERIOD: pa.Column(spec.frequency.dtype, nullable=False),
    }
    for name in (*spec.targets, *spec.covariate_names):
        checks = [pa.Check.ge(0)] if name in counts else []
        columns[name] = pa.Column(float, checks, nullable=True, coerce=True)
    for name in spec.static:
        columns[name] = pa.Column(
            float if name in spec.numeric_static else None, nullable=True, coerce=name in spec.numeric_static
        )
    # Unique keys are checked by `_duplicate_findings`, on period ordinals: pandera's check would turn
    # every period into an object (16 s on 945,000 rows).
    return pa.DataFrameSchema(columns, strict=False)


def validate_panel(frame: pd.DataFrame, spec: PanelSpec) -> list[Finding]:
    """All findings for `frame`, whose index holds the row labels to report (e.g. file lines)."""
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        return [_finding(msg.MISSING_COLUMN, column=c) for c in missing]
    frame, findings = _coerce_numeric(frame, spec)
    findings += _schema_findings(frame, spec)
    findings += _duplicate_findings(frame)
    if frame[AREA].isna().any() or frame[PERIOD].isna().any():
        return findings  # the structural checks below need complete keys
    findings += _gap_findings(frame, spec)
    findings += _static_findings(frame, spec)
    findings += _covariate_findings(frame, spec)
    for target in spec.targets:
        values = frame[target]
        if values.isna().all():
            findings.append(_finding(msg.TARGET_ALL_MISSING, column=target))
            continue
        findings += _constant_findings(values, target)
        if values.isna().any():
            gaps = frame[values.isna()]
            findings.append(
                _finding(
                    msg.MISSING_TARGET_VALUES,
                    severity="warning",
                    column=target,
                    n=len(gaps),
                    areas=gaps[AREA].unique(),
                    periods=gaps[PERIOD].unique(),
                    rows=gaps.index,
                )
            )
    return findings


def _located(
    entry: tuple[str, str],
    frame: pd.DataFrame,
    bad: pd.Series,
    column: str,
    *,
    example: str = "",
    maximum: float | None = None,
) -> Finding:
    """A finding about the rows of `frame` where `bad` holds, naming their areas, periods and rows
    (`example` and `maximum` fill the message where it names them)."""
    located = frame[bad]
    return _finding(
        entry,
        column=column,
        n=int(bad.sum()),
        areas=located[AREA].dropna().unique(),
        periods=located[PERIOD].dropna().unique(),
        rows=located.index,
        example=example,
        maximum=maximum,
    )


def _coerce_numeric(frame: pd.DataFrame, spec: PanelSpec) -> tuple[pd.DataFrame, list[Finding]]:
    """Report values that are not numbers, not finite, or above the maximum count in numeric
    columns, and return a copy with them as missing so the later checks see only real numbers."""
    findings: list[Finding] = []
    numeric = {}
    counts = {*spec.targets, *(c.name for c in spec.covariates if c.count)}
    for column in (*spec.targets, *spec.covariate_names, *spec.numeric_static):
        raw = frame[column]
        values = pd.to_numeric(raw, errors="coerce").astype("float64")
        bad = values.isna() & raw.notna()
        if bad.any():
            findings.append(_located(msg.NON_NUMERIC, frame, bad, column, example=str(raw[bad].iloc[0])))
        infinite = pd.Series(np.isinf(values.to_numpy()), index=values.index)
        if infinite.any():
            findings.append(_located(msg.NON_FINITE, frame, infinite, column, example=str(raw[infinite].iloc[0])))
        huge = (values > spec.max_count) & ~infinite if column in counts else pd.Series(False, index=values.index)
        if huge.any():
            example = str(raw[huge].iloc[0])
            findings.append(_located(msg.ABOVE_MAXIMUM, frame, huge, column, example=example, maximum=spec.max_count))
        numeric[column] = values.mask(infinite | huge)
    return frame.assign(**numeric), findings


def _constant_findings(values: pd.Series, target: str) -> list[Finding]:
    known = values.dropna()
    if (known == 0).all():
        return [_finding(msg.TARGET_ALL_ZERO, column=target)]
    if known.nunique() == 1:
        return [_finding(msg.TARGET_CONSTANT, column=target, value=float(known.iloc[0]))]
    return []


def published_until(frame: pd.DataFrame, spec: PanelSpec, covariate: str) -> pd.Period:
    """The covariate's last published period: the panel's last period less its publication lag."""
    return frame[PERIOD].max() - spec.publication_lag(covariate)


def _covariate_findings(frame: pd.DataFrame, spec: PanelSpec) -> list[Finding]:
    """Missing covariate values under the panel's policy; the unpublished latest periods are fine."""
    findings = []
    order = frame.sort_values([AREA, PERIOD])
    for covariate in spec.covariate_names:
        values = order[covariate]
        missing = values.isna() & (order[PERIOD] <= published_until(order, spec, covariate))
        if spec.missing_covariates == "fill_forward":  # a value can be carried forward from earlier in its area
            missing &= ~values.notna().groupby(order[AREA], sort=False).cummax()
        if missing.any():
            keep = spec.missing_covariates == "keep"
            entry = msg.KEPT_MISSING_COVARIATES if keep else msg.MISSING_COVARIATES
            found = _located(entry, order, missing, covariate)
            findings.append(replace(found, severity="warning") if keep else found)
    return findings


def fill_covariates(frame: pd.DataFrame, spec: PanelSpec) -> pd.DataFrame:
    """Carry each area's last published covariate value forward, within the published periods,
    when the panel's policy is `fill_forward`; otherwise the frame as it is. `frame` is sorted
    by (area, period) and already numeric."""
    if spec.missing_covariates != "fill_forward":
        return frame
    filled = {}
    for covariate in spec.covariate_names:
        published = frame[PERIOD] <= published_until(frame, spec, covariate)
        carried = frame[covariate].groupby(frame[AREA], sort=False).ffill()
        filled[covariate] = frame[covariate].where(~published, carried)
    return frame.assign(**filled)


def _schema_findings(frame: pd.DataFrame, spec: PanelSpec) -> list[Finding]:
    try:
        panel_schema(spec).validate(frame, lazy=True)
    except SchemaErrors as error:
        cases = error.failure_cases
    else:
        return []
    findings: list[Finding] = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        rows = [int(i) for i in group["index"].dropna()]
        located = frame.loc[rows] if rows else frame.iloc[0:0]
        where = dict(areas=located[AREA].unique(), periods=located[PERIOD].unique(), rows=rows)
        example = str(group["failure_case"].iloc[0])
        check = str(check)
        if check.startswith("str_matches"):
            findings.append(
                _finding(
                    msg.BAD_AREA_CODE,
                    column=AREA,
                    n=len(group),
                    example=example,
                    pattern=spec.area_code_pattern,
                    **where,
                )
            )
        elif check.startswith("greater_than_or_equal_to"):
            findings.append(_finding(msg.NEGATIVE_COUNTS, column=str(column), n=len(group), **where))
        elif check == "not_nullable":
            what = "area code" if column == AREA else "period" if column == PERIOD else f"value in '{column}'"
            findings.append(_finding(msg.MISSING_KEY, column=str(column), n=len(group), what=what, **where))
        elif check.startswith("dtype") and column == PERIOD:
            findings.append(
                _finding(
                    msg.FREQUENCY_MISMATCH,
                    column=PERIOD,
                    found=example,
                    example=str(frame[PERIOD].iloc[0]),
                    declared=spec.frequency.label,
                )
            )
        else:  # a rule pandera added that has no tailored message yet: still report it plainly
            findings.append(
                Finding(
                    check=check,
                    message=f"column '{column}' failed {check}",
                    fix="correct the values",
                    column=str(column),
                    rows=tuple(rows),
                )
            )
    return findings


def _duplicate_findings(frame: pd.DataFrame) -> list[Finding]:
    """Areas with more than one row for a period."""
    period = frame[PERIOD]
    keys = pd.DataFrame(
        {AREA: frame[AREA], PERIOD: period.array.asi8 if isinstance(period.dtype, pd.PeriodDtype) else period},
        index=frame.index,
    )
    repeated = keys.duplicated(keep=False)
    if not repeated.any():
        return []
    duplicated = frame[repeated.to_numpy()]
    return [
        _finding(
            msg.DUPLICATE_KEYS,
            n=int(keys.duplicated(keep="first").sum()),
            areas=duplicated[AREA].unique(),
            periods=duplicated[PERIOD].unique(),
            rows=duplicated.index,
        )
    ]


def _gap_findings(frame: pd.DataFrame, spec: PanelSpec) -> list[Finding]:
    ordinals = pd.Series(pd.PeriodIndex(frame[PERIOD]).asi8, index=frame.index)
    per_area = ordinals.groupby(frame[AREA]).agg(["min", "max", "nunique"])
    gappy = per_area[per_area["max"] - per_area["min"] + 1 > per_area["nunique"]]
    if gappy.empty:
        return []
    missing_periods: list[str] = []
    for area, row in gappy.iterrows():
        have = set(ordinals[frame[AREA] == area])
        for ordinal in range(row["min"], row["max"] + 1):
            if ordinal not in have:
                missing_periods.append(f"{area} {pd.Period(ordinal=ordinal, freq=spec.frequency.value)}")
    return [_finding(msg.GAPS, n=len(gappy), areas=gappy.index, periods=missing_periods)]


def _static_findings(frame: pd.DataFrame, spec: PanelSpec) -> list[Finding]:
    findings = []
    for column in spec.static:
        counts = frame.groupby(AREA)[column].nunique(dropna=False)
        varying = counts[counts > 1].index
        if len(varying):
            rows = frame.index[frame[AREA].isin(varying)]
            findings.append(_finding(msg.STATIC_VARIES, column=column, n=len(varying), areas=varying, rows=rows))
    return findings
