"""The logged model: a fitted forecaster with its interval bands, served through MLflow's pyfunc.

Input: feature-table rows (the features, `horizon` and the `ref_*` columns), categories as text.
Output: forecast, lower and upper bound for each row; the bounds come from the band of the row's
horizon and size band (its `ref_recent_mean_w4`, placed by the band's stored edges).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from mlflow.pyfunc.model import PythonModel, PythonModelContext

from models.base import Forecaster
from workbench.data.contract import HORIZON
from workbench.intervals import SIZE, MondrianBand


class ForecastModel(PythonModel):
    def __init__(self, *, forecaster: Forecaster, categories: dict[str, list[object]], bands: dict[int, MondrianBand]):
        self.forecaster = forecaster
        self.categories = categories
        self.bands = bands

    def _rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(
            **{
                c: pd.Categorical(frame[c].astype(str), categories=[str(v) for v in cats])
                for c, cats in self.categories.items()
                if c in frame
            }
        )

    def predict(
        self, context: PythonModelContext | None, model_input: pd.DataFrame, params: dict[str, object] | None = None
    ) -> pd.DataFrame:
        rows = self._rows(model_input)
        forecast = np.asarray(self.forecaster.predict(rows), dtype=float)
        lower = np.full(len(rows), np.nan)
        upper = np.full(len(rows), np.nan)
        horizons = rows[HORIZON].to_numpy()
        size = rows[SIZE].to_numpy(float)
        for horizon, band in self.bands.items():
            mask = horizons == horizon
            if mask.any():
                lower[mask], upper[mask] = band.apply(forecast[mask], size[mask])
        return pd.DataFrame({"forecast": forecast, "lower": lower, "upper": upper})
