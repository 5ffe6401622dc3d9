"""Figures for reviewers. Each function returns a matplotlib Figure; the tracking module logs it.
matplotlib is imported when a figure is drawn, so a run that draws none (`train --quick`) never loads it."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from workbench.backtest import BacktestResult
from workbench.data.contract import ACTUAL, HORIZON, ORIGIN

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def headless() -> None:
    """Draw off-screen: figures are saved as files, never shown. Called before drawing, not at import."""
    import matplotlib

    matplotlib.use("Agg")


def backtest_figure(result: BacktestResult, *, winner: str, baselines: list[str], target: str) -> Figure:
    """Left: the total over all areas, actual against one-step forecasts at each origin.
    Right: MASE by horizon for every candidate."""
    headless()
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    first = result.predictions[result.predictions[HORIZON] == result.predictions[HORIZON].min()]
    totals = first.groupby(["candidate", ORIGIN])[[ACTUAL, "forecast"]].sum().reset_index()
    actual = totals.drop_duplicates(ORIGIN).set_index(ORIGIN)[ACTUAL]
    x = [str(o + int(first[HORIZON].min())) for o in actual.index]
    left.plot(x, actual.to_numpy(), color="black", linewidth=2.5, label="actual")
    shown = [winner, *[b for b in baselines if b != winner]]
    for candidate in shown:
        series = totals[totals["candidate"] == candidate].set_index(ORIGIN)["forecast"]
        left.plot(
            x,
            series.reindex(actual.index).to_numpy(),
            linewidth=2 if candidate == winner else 1,
            linestyle="-" if candidate == winner else "--",
            label=candidate,
        )
    left.set_title(f"Total {target} over all areas: actual and one-step forecasts")
    left.set_xlabel("forecast period")
    left.tick_params(axis="x", rotation=45)
    left.legend(fontsize=8)
    by_horizon = result.horizon_metrics.pivot(index=HORIZON, columns="candidate", values="mase")
    for candidate in by_horizon.columns:
        emphasis = dict(linewidth=2.5) if candidate == winner else dict(linewidth=1, alpha=0.8)
        right.plot(by_horizon.index, by_horizon[candidate], marker="o", label=candidate, **emphasis)
    right.set_title("Backtest MASE by horizon (lower is better)")
    right.set_xlabel("horizon (periods ahead)")
    right.set_xticks(list(by_horizon.index))
    right.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def close(fig: Figure) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes, closed afterwards (figures are rendered where they are computed)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    close(fig)
    return buffer.getvalue()


__all__ = ["backtest_figure", "close", "headless", "png"]
