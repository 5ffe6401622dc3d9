"""A plain summary of a validated panel, for the terminal and for run descriptions."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from workbench.data.contract import AREA, PERIOD, Panel


@dataclass(frozen=True)
class PanelSummary:
    source: str
    areas: int
    first_period: str
    last_period: str
    frequency: str
    rows: int
    digest: str
    targets: pd.DataFrame  # per target: latest period total, rate per 1,000 households, missing share
    covariates: pd.DataFrame  # per covariate: publication lag, last published period
    groups: dict[str, dict[str, int]]
    warnings: tuple[str, ...]
    notes: tuple[str, ...] = ()


def summarise(panel: Panel) -> PanelSummary:
    frame, spec = panel.frame, panel.spec
    last = frame[PERIOD].max()
    latest = frame[frame[PERIOD] == last]
    households = latest["households"].sum() if "households" in frame else None
    target_rows = []
    for target in spec.targets:
        total = latest[target].sum()
        target_rows.append(
            {
                "target": target,
                f"total {last}": total,
                "per 1,000 households": total / households * 1000 if households else float("nan"),
                "missing %": frame[target].isna().mean() * 100,
            }
        )
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
            table.add_row(*[f"{v:,.1f}" if isinstance(v, float) else str(v) for v in row])
        console.print(table)
    for group, counts in summary.groups.items():
        console.print(f"  group [bold]{group}[/]: " + ", ".join(f"{k} ({v})" for k, v in counts.items()))
    for note in summary.notes:
        console.print(f"  note: {escape(note)}")
    for warning in summary.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
