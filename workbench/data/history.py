"""The one rule for how many periods a panel needs for an experiment's backtest.

`validate` and `train` both ask this module, so a panel that validates has enough history to
train on: the backtest's first origin must leave `min_train_periods` periods to train on, and
the last origin must leave room for the longest horizon.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.data import messages as msg
from workbench.data.contract import PERIOD, Panel
from workbench.data.findings import Finding
from workbench.data.findings import from_message as _finding
from workbench.errors import DataError

if TYPE_CHECKING:
    from workbench.config import Experiment


def periods_needed(*, origins: int, step: int, max_horizon: int, min_train_periods: int) -> int:
    """Periods from the first to the last, inclusive, that a rolling-origin backtest needs."""
    return min_train_periods + max_horizon + step * (origins - 1)


def history_findings(panel: Panel, experiment: Experiment) -> list[Finding]:
    """A finding when the panel is too short for the experiment's backtest; none otherwise."""
    b = experiment.backtest
    horizon = max(experiment.horizons)
    needed = periods_needed(origins=b.origins, step=b.step, max_horizon=horizon, min_train_periods=b.min_train_periods)
    first, last = panel.frame[PERIOD].min(), panel.frame[PERIOD].max()
    have = (last - first).n + 1
    if have >= needed:
        return []
    return [
        _finding(
            msg.TOO_FEW_PERIODS,
            have=have,
            first=first,
            last=last,
            needed=needed,
            min_train=b.min_train_periods,
            origins=b.origins,
            step=b.step,
            horizon=horizon,
        )
    ]


def require_history(panel: Panel, experiment: Experiment) -> None:
    """Raise DataError, naming the panel and the fix, when it is too short for the backtest."""
    findings = history_findings(panel, experiment)
    if findings:
        raise DataError(findings, source=panel.source)
