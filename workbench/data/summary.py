"""A plain summary of a validated panel, for the terminal and for run descriptions."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from workbench.data.contract import AREA, HOUSEHOLDS, PERIOD, Panel


@dataclass(frozen=True)
class PanelSummary:
    source: str
    areas: int
    first_period: str
    last_period: str
    frequency: str
    rows: int
    digest: str
    targets: pd.DataFrame  # per target: the latest period across areas (a sum, or a rate's median), per 1,000
    # households when the panel has households and the target is a count, missing share
    covariates: pd.DataFrame  # per covariate: publication lag, last published period
    groups: dict[str, dict[str, int]]
    warnings: tuple[str, ...]
    notes: tuple[str, ...] = ()


def _target_row(latest: pd.DataFrame, target: str, *, rate: bool, last: str) -> dict[str, object]:
    """A count is summed over the areas; a rate is not (a sum of rates means nothing): its median is shown.
    The rate per 1,000 households is shown only for a count, and only when the panel has households."""
    known = latest[target].dropna()
    areas = f"{len(known)} of {len(latest)} areas" if len(known) < len(latest) else f"{len(known)} areas"
    if known.empty:
        value, how = None, f"no values in {last}"
    elif rate:
        value, how = known.median(), f"median of {areas} (a rate: not summed)"
    else:
        value, how = known.sum(), f"sum of {areas}"
    row = {"target": target, last: value, "across areas": how}
    if HOUSEHOLDS in latest:
        row["per 1,000 households"] = None if rate else _per_1000_households(latest, target)
    return row


def _per_1000_households(latest: pd.DataFrame, target: str) -> float | None:
    both = latest[[target, HOUSEHOLDS]].dropna()
    households = both[HOUSEHOLDS].sum()
    return float(both[target].sum() / households * 1000) if households > 0 else None


def summarise(panel: Panel) -> PanelSummary:
    frame, spec = panel.frame, panel.spec
    last = frame[PERIOD].max()
    latest = frame[frame[PERIOD] == last]
    target_rows = [
        _target_row(latest, t, rate=t in spec.rates, last=str(last)) | {"missing %": frame[t].isna().mean() * 100}
        for t in spec.targets
    ]
    covariate_rows = []
    for covariate in spec.covariates:
        published = frame.loc[frame[covariate.name].notna(), PERIOD]
        covariate_rows.append(
            {
                "covariate": covariate.name,
                "publication lag": covariate.publication_lag,
                "last published": str(published.max()) if len(published) else "never",
            }
        )
    static = panel.static_table()
    groups = {g: static[g].astype(str).value_counts().sort_index().to_dict() for g in spec.groups}
    return PanelSummary(
        source=panel.source,
        areas=frame[AREA].nunique(),
        first_period=str(frame[PERIOD].min()),
        last_period=str(last),
        frequency=spec.frequency.label,
        rows=len(frame),
        digest=panel.digest(),
        targets=pd.DataFrame(target_rows),
        covariates=pd.DataFrame(covariate_rows),
        groups=groups,
        warnings=tuple(f.render() for f in panel.findings if f.severity == "warning"),
        notes=panel.notes,
    )


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"
    return str(value)


def render_summary(console: Console, summary: PanelSummary) -> None:
    """Print the summary as a few lines and two tables."""
    console.print(
        f"[bold]{escape(summary.source)}[/]: {summary.areas} areas, {summary.first_period} to "
        f"{summary.last_period} ({summary.frequency}ly), {summary.rows:,} rows, digest {summary.digest}"
    )
    for title, frame in (("Targets", summary.targets), ("Covariates", summary.covariates)):
        if frame.empty:
            continue
        table = Table(title=title, title_justify="left")
        for column in frame.columns:
            numeric = pd.api.types.is_numeric_dtype(frame[column])
            table.add_column(str(column), justify="right" if numeric else "left")
        for row in frame.itertuples(index=False):
            table.add_row(*[_cell(v) for v in row])
        console.print(table)
    for group, counts in summary.groups.items():
        console.print(f"  group [bold]{group}[/]: " + ", ".join(f"{k} ({v})" for k, v in counts.items()))
    for note in summary.notes:
        console.print(f"  note: {escape(note)}")
    for warning in summary.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
