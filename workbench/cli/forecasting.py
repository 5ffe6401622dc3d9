"""Commands that use the champion: forecast every area, and score published forecasts against actuals."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from workbench.cli.arguments import EXPERIMENT
from workbench.cli.console import console
from workbench.cli.guard import guard


def forecast(experiment: Path = EXPERIMENT) -> None:
    """Forecast every area with the experiment's champion: CSV, HTML report, model card, transparency record."""
    from workbench.forecast import run_forecast

    with guard("forecast"):
        run_forecast(experiment, console=console())


def score(experiment: Path = EXPERIMENT) -> None:
    """Score every published forecast that the experiment's (newer) data can resolve; check for drift."""
    from workbench.score import run_score

    out = console()
    with guard("score"):
        outcome = run_score(experiment, console=out)
    for run_id, digest, metrics in outcome.scored:
        for row in metrics.itertuples(index=False):
            out.print(
                f"Scored forecast run {run_id[:8]} for {row.target_period} against actuals {digest[:8]}: "
                f"{int(row.areas)} areas, WAPE {row.wape:.1%}, MAE {row.mae:.1f}, bias {row.bias:+.1%}, "
                f"inside the interval {row.coverage:.0%}, WIS {row.wis:.2f}"
            )
    out.print(
        f"{len(outcome.scored)} newly scored, {outcome.already} already scored against these actuals, "
        f"{outcome.waiting} waiting for actuals."
    )
    if outcome.decision is not None:
        out.print(f"Champion: {escape(outcome.decision.summary())}")
