"""What a forecast produced, as a plain record: below both the forecast step and the report, so
either can use it without importing the other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from workbench.config import Experiment
from workbench.data.contract import Panel
from workbench.ledger.record import Monitoring

if TYPE_CHECKING:
    from workbench.tracking.champion import ChampionModel


@dataclass(frozen=True)
class ForecastResult:
    experiment: Experiment
    champion: ChampionModel
    panel: Panel
    areas: pd.DataFrame  # one row per area and horizon: forecast, interval, change, flags, drivers, sentence
    history: pd.DataFrame  # area_code, period, actual: the recent history shown beside each forecast
    made_at: str
    monitoring: Monitoring | None = None  # what the forecast ledger says about past forecasts (issue 16)
    totals: pd.DataFrame | None = (
        None  # one row per aggregate and horizon, the sum of its areas (workbench/reconcile.py)
    )
