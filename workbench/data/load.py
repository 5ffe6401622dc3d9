"""Load the panel an experiment asks for, validated against the contract.

This is the only entry point later steps use: it returns a `Panel` or raises a `DataError`
carrying every finding, before anything is written anywhere.
"""

from __future__ import annotations

import pandas as pd

from workbench.data.contract import KEYS, Panel, PanelSpec
from workbench.data.files import read_table
from workbench.data.findings import errors_in
from workbench.data.mapping import map_columns
from workbench.data.sources import DataConfig, FileSource, OfficialSource, SyntheticSource
from workbench.data.synthetic.england import SPEC as ENGLAND_SPEC
from workbench.data.synthetic.england import generate_england
from workbench.data.synthetic.small_areas import SMALL_AREA_SPEC, generate_small_areas
from workbench.data.validate import fill_covariates, validate_panel
from workbench.errors import DataError


def load_panel(data: DataConfig) -> Panel:
    if data.synthetic is not None:
        return _synthetic(data.synthetic)
    if data.official is not None:
        return _official(data.official)
    assert data.file is not None
    return _file(data.file)


def _official(source: OfficialSource) -> Panel:
    from workbench.data.official.panel import load_official

    frame, spec, findings, notes = load_official(
        source.folder,
        deprivation_file=source.deprivation,
        claimant_file=source.claimant_count,
        possession_file=source.possession_claims,
    )
    if errors_in(findings):
        raise DataError(findings, source=str(source.folder))
    merged = f"; {len(notes)} note(s) on editions and boundary changes" if notes else ""
    panel = _validated(frame, spec, f"H-CLIC workbooks in {source.folder}{merged}")
    extra = tuple(f for f in findings if f.severity == "warning")
    return Panel(
        frame=panel.frame, spec=panel.spec, source=panel.source, findings=panel.findings + extra, notes=tuple(notes)
    )


def _synthetic(source: SyntheticSource) -> Panel:
    trend = f", extra trend {source.trend_per_year:+.0%} a year" if source.trend_per_year else ""
    if source.small_areas:
        frame = generate_small_areas(
            areas=source.small_areas,
            seed=source.seed,
            start=source.start,
            end=source.end,
            trend_per_year=source.trend_per_year,
        )
        label = (
            f"synthetic England small areas ({source.small_areas:,} areas, seed {source.seed}, "
            f"{source.start} to {source.end}{trend})"
        )
        return _validated(frame, SMALL_AREA_SPEC, label)
    frame = generate_england(seed=source.seed, start=source.start, end=source.end, trend_per_year=source.trend_per_year)
    label = f"synthetic England (seed {source.seed}, {source.start} to {source.end}{trend})"
    return _validated(frame, ENGLAND_SPEC, label)


def _file(source: FileSource) -> Panel:
    label = str(source.path)
    raw = read_table(source.path, na_values=source.na_values, max_mb=source.max_file_mb)
    frame, spec, findings = map_columns(raw, source)
    if errors_in(findings) or spec is None:
        raise DataError(findings, source=label)
    return _validated(frame, spec, label)


def _validated(frame: pd.DataFrame, spec: PanelSpec, label: str) -> Panel:
    findings = validate_panel(frame, spec)
    if errors_in(findings):
        raise DataError(findings, source=label)
    numeric = {c: frame[c].astype("float64") for c in (*spec.targets, *spec.covariate_names, *spec.numeric_static)}
    clean = fill_covariates(frame.assign(**numeric).sort_values(list(KEYS)).reset_index(drop=True), spec)
    return Panel(frame=clean, spec=spec, source=label, findings=tuple(findings))
