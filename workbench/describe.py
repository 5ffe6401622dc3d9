"""The run description a reviewer reads first in the MLflow UI (markdown)."""

from __future__ import annotations

import pandas as pd

from models.combination import describe_combination
from workbench.combination import final_choice
from workbench.gate import Decision
from workbench.record import TrainingRecord

SHOWN = ("mase", "wape", "mae", "bias", "coverage", "winkler")


def _window(origins: int | None) -> str:
    return "every earlier origin" if origins is None else f"the latest {origins} origins known at each fold's origin"


def comparison_table(record: TrainingRecord) -> pd.DataFrame:
    """One row per candidate: kind and backtest metrics over all origins and horizons, best first."""
    kinds = {m.candidate: m.kind for m in record.experiment.models}
    table = record.backtest.summary.set_index("candidate")[list(SHOWN)]
    table.insert(0, "kind", pd.Series(kinds))
    return table.sort_values(record.selection.metric)


def combination_lines(record: TrainingRecord) -> list[str]:
    """What each combination candidate forecasts with, in a sentence."""
    lines = []
    for spec in record.experiment.combinations:
        if spec.candidate in record.backtest.combinations:
            choice = final_choice(record.backtest, spec.candidate)
            lines.append(
                f"{spec.candidate} forecasts with {describe_combination(spec.how, choice.members, choice.weights)}, "
                f"chosen on all {len(choice.scored_on)} origins; at each backtest origin its members and weights "
                "were chosen only on the earlier folds whose actuals were known there."
            )
    return lines


def _markdown(table: pd.DataFrame, *, level: float) -> str:
    header = ["candidate", "kind", "MASE", "WAPE", "MAE", "bias", f"coverage ({level:.0%})", "Winkler"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in table.iterrows():
        lines.append(
            f"| {name} | {row['kind']} | {row['mase']:.3f} | {row['wape']:.1%} | {row['mae']:.1f} | "
            f"{row['bias']:+.1%} | {row['coverage']:.1%} | {row['winkler']:.1f} |"
        )
    return "\n".join(lines)


def decision_lines(decision: Decision | None, *, model: str, version: str) -> list[str]:
    if decision is None:
        return []
    if decision.passed:
        return [f"**Decision: promoted.** Version {version} of `{model}` is the champion: every gate check passed.", ""]
    return (
        [f"**Decision: not promoted.** Version {version} of `{model}` is the challenger because:", ""]
        + [f"- {reason}" for reason in decision.reasons]
        + [""]
    )


def run_description(
    record: TrainingRecord,
    *,
    commit: str,
    dirty: bool,
    decision: Decision | None = None,
    model: str = "",
    version: str = "",
) -> str:
    experiment, selection, panel = record.experiment, record.selection, record.panel
    folds = record.backtest.folds
    builders = ", ".join(b.name for b in experiment.features) or "none"
    return "\n".join(
        [
            f"## {experiment.name}: winner **{selection.winner}**",
            "",
            *decision_lines(decision, model=model, version=version),
            selection.verdict,
            "",
            f"**Rule:** {selection.rule}.",
            "",
            _markdown(comparison_table(record), level=record.backtest.level),
            "",
            *[f"{line}\n" for line in combination_lines(record)],
            f"**Target:** `{experiment.target}`, horizons {', '.join(map(str, experiment.horizons))} "
            f"({panel.spec.frequency.label}s ahead). **Backtest:** {len(folds)} origins from {folds[0].origin} to "
            f"{folds[-1].origin}, every candidate refitted at each origin on data up to it; intervals are conformal "
            f"from earlier folds' residuals ({_window(experiment.backtest.interval_calibration_origins)}).",
            f"**Data:** {panel.source}, {panel.frame['area_code'].nunique()} areas, digest `{panel.digest()}`.",
            f"**Features:** {builders}.",
            f"**Code:** commit `{commit[:12]}`{' (uncommitted changes present)' if dirty else ''}; "
            f"config hash `{experiment.config_hash}`.",
            "",
            "Child runs hold each candidate's parameters, per-fold metrics (step = fold), explanations and logged "
            "model. The audit and gate reports are under `audit/` and `gate/`.",
        ]
    )
