"""Ledger entries: one row per area and horizon of a published forecast, with everything needed to
score it later without the model: the interval, its level, the disclosure status and the audit groups."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from workbench.data.contract import AREA, HORIZON, ORIGIN, PERIOD, TARGET_PERIOD

if TYPE_CHECKING:
    from workbench.forecast_record import ForecastResult

GROUP_PREFIX = "group:"
"""Audit-group columns in the ledger are stored as `group:<grouping>` so they never clash with scores."""

ENTRY_COLUMNS = [
    "experiment",
    "model_name",
    "model_version",
    "candidate",
    "made_at",
    "data_digest",
    ORIGIN,
    TARGET_PERIOD,
    HORIZON,
    AREA,
    "forecast",
    "lower",
    "upper",
    "level",
    "disclosure",
]


def ledger_entries(result: ForecastResult, *, disclosure: pd.DataFrame) -> pd.DataFrame:
    """The rows the ledger keeps for a forecast. `disclosure` is the published table (area_code,
    period, suppressed), so the ledger records what readers were shown."""
    champion, areas = result.champion, result.areas
    status = disclosure.assign(**{PERIOD: disclosure[PERIOD].astype(str)}).set_index([AREA, PERIOD])["suppressed"]
    keys = pd.MultiIndex.from_arrays([areas[AREA], areas[TARGET_PERIOD].astype(str)])
    frame = pd.DataFrame(
        {
            "experiment": result.experiment.name,
            "model_name": champion.name,
            "model_version": str(champion.version),
            "candidate": champion.candidate,
            "made_at": result.made_at,
            "data_digest": result.panel.digest(),
            ORIGIN: areas[ORIGIN].astype(str).to_numpy(),
            TARGET_PERIOD: areas[TARGET_PERIOD].astype(str).to_numpy(),
            HORIZON: areas[HORIZON].astype(int).to_numpy(),
            AREA: areas[AREA].to_numpy(),
            "forecast": areas["forecast"].astype(float).to_numpy(),
            "lower": areas["lower"].astype(float).to_numpy(),
            "upper": areas["upper"].astype(float).to_numpy(),
            "level": float(champion.trained.backtest.interval_level),
            "disclosure": status.reindex(keys).fillna("").astype(str).to_numpy(),
        }
    )
    static = result.panel.static_table()
    for grouping in _groupings(result):
        frame[f"{GROUP_PREFIX}{grouping}"] = frame[AREA].map(static[grouping]).astype(str).to_numpy()
    return frame


def _groupings(result: ForecastResult) -> list[str]:
    chosen = result.champion.trained.audit.groupings or list(result.panel.spec.groups)
    return [g for g in chosen if g in result.panel.spec.static]
