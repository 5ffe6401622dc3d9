"""Classical per-series forecasters from statsforecast: AutoETS, AutoARIMA, Theta and the methods
for intermittent, zero-heavy series (Croston, ADIDA, IMAPA, TSB).

They take no features. The forecaster rebuilds each area's history from the feature-table rows it
is fitted on: the actual at each row's target period and the latest value (`ref_last`) at each
row's origin. Training rows only hold actuals observed by the fold's origin, and each test row is
forecast from its own origin using history up to that origin, so nothing later leaks in.

Seasonality follows the panel's frequency (read from the periods: 4 for quarters, 12 for months,
none for years). Every fit runs in one thread; statsforecast models are called directly per series,
never through its parallel engine. A series too short for the method gets its latest value, and
the forecaster counts such series in `fallbacks_`.

Explanation: a per-series model has no features to attribute its forecast to, so it is explained
as what it is, like the baselines: a sentence naming the method and the history it extrapolates
(`describe`). SHAP over the feature table would report every feature as having no effect, which
is true and says nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import pandas as pd
from pydantic import Field

from features.base import FeatureInfo
from models.base import ModelSpec
from workbench.data.contract import ACTUAL, AREA, HORIZON, ORIGIN, PERIOD, TARGET_PERIOD

MIN_HISTORY = 4  # fewer observed periods than this: the latest value is the forecast


class SeriesModel(Protocol):
    """What the forecaster uses of a statsforecast model: a forecast of one series, `h` steps ahead."""

    def forecast(self, *, y: np.ndarray, h: int) -> Mapping[str, np.ndarray]: ...


def season_length_of(periods: pd.Series) -> int:
    """Periods per year from a period column's frequency: 1 (years), 4 (quarters), 12 (months)."""
    freq = str(periods.dtype.freq.name) if isinstance(periods.dtype, pd.PeriodDtype) else "Y"
    return {"Q": 4, "M": 12}.get(freq[0], 1)


def histories(rows: pd.DataFrame) -> pd.DataFrame:
    """Every (area, period, value) the rows show as observed: actuals at target periods and the
    latest value at origins."""
    parts = [rows[[AREA, TARGET_PERIOD, ACTUAL]].set_axis([AREA, PERIOD, "value"], axis=1)]
    if "ref_last" in rows:
        parts.append(rows[[AREA, ORIGIN, "ref_last"]].set_axis([AREA, PERIOD, "value"], axis=1))
    known = pd.concat(parts, ignore_index=True).dropna(subset=["value"])
    return known.drop_duplicates([AREA, PERIOD]).sort_values([AREA, PERIOD]).reset_index(drop=True)


def _series(periods: np.ndarray, values: np.ndarray, origin: int) -> np.ndarray:
    """One area's values up to `origin` on a complete period range, gaps carried forward (`periods`:
    the area's period ordinals, sorted, `origin` an ordinal of the same frequency)."""
    keep = periods <= origin
    periods, values = periods[keep], values[keep]
    if not len(periods):
        return np.array([], dtype=float)
    full = np.full(origin - periods[0] + 1, np.nan)
    full[periods - periods[0]] = values
    last = np.maximum.accumulate(np.where(np.isfinite(full), np.arange(len(full)), 0))
    return full[last]


class _PerSeries:
    """Fits one statsforecast model per area at forecast time, from history up to each origin."""

    def __init__(self, method: str, params: dict[str, Any]):
        self.method = method
        self.params = params

    def fit(self, rows: pd.DataFrame, y: np.ndarray) -> _PerSeries:
        self.history_ = histories(rows.assign(**{ACTUAL: y}))
        self.season_length_ = season_length_of(rows[ORIGIN]) if len(rows) else 1
        self.fallbacks_ = 0
        return self

    def _model(self, n: int) -> SeriesModel:
        import statsforecast.models as sf  # imported here: numba compiles on first import

        seasonal = self.season_length_ if n >= 2 * self.season_length_ + 2 else 1
        if self.method in {"AutoETS", "AutoARIMA", "AutoTheta"}:
            model: SeriesModel = getattr(sf, self.method)(season_length=seasonal, **self.params)
        else:
            model = getattr(sf, self.method)(**self.params)
        return model

    def _forecast(self, values: np.ndarray, steps: int) -> np.ndarray:
        if len(values) < MIN_HISTORY or np.ptp(values) == 0:
            self.fallbacks_ += len(values) < MIN_HISTORY
            return np.full(steps, values[-1] if len(values) else np.nan)
        try:
            mean = np.asarray(self._model(len(values)).forecast(y=values, h=steps)["mean"], dtype=float)
        except (ValueError, NotImplementedError, IndexError, np.linalg.LinAlgError, ZeroDivisionError):
            self.fallbacks_ += 1
            return np.full(steps, values[-1])
        mean = np.where(np.isfinite(mean), mean, values[-1])
        return np.clip(mean, 0, None) if values.min() >= 0 else mean

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        known = histories(rows[[AREA, ORIGIN, TARGET_PERIOD, "ref_last"]].assign(**{ACTUAL: np.nan}))
        history = pd.concat([self.history_, known]).drop_duplicates([AREA, PERIOD]).sort_values([AREA, PERIOD])
        periods, values = _ordinals(history[PERIOD]), history["value"].to_numpy(float)
        by_area = history.groupby(AREA, sort=False).indices
        origins, steps = _ordinals(rows[ORIGIN]), rows[HORIZON].to_numpy()
        nothing = np.array([], dtype=int)
        out = np.full(len(rows), np.nan)
        for (area, _), group in rows.groupby([AREA, ORIGIN], sort=False).indices.items():
            mine = by_area.get(area, nothing)
            path = self._forecast(_series(periods[mine], values[mine], origins[group[0]]), int(steps[group].max()))
            out[group] = path[steps[group] - 1]
        return out


def _ordinals(periods: pd.Series) -> np.ndarray:
    """A period column as integer ordinals: consecutive periods differ by one."""
    return np.asarray(pd.PeriodIndex(periods).asi8, dtype=np.int64)


class _Classical(ModelSpec):
    """What every statsforecast spec shares: no features, explained as what it is."""

    kind: ClassVar = "classical"
    explainer: ClassVar = "baseline"
    method: ClassVar[str]
    description: ClassVar[str]

    def params(self) -> dict[str, Any]:
        return self.model_dump(exclude={"name"})

    def describe(self) -> str:
        return self.description

    def make(self, *, features: tuple[FeatureInfo, ...], seed: int) -> _PerSeries:
        return _PerSeries(self.method, self.params())


class ETS(_Classical):
    """Exponential smoothing with error, trend and season chosen by AICc for each area."""

    model: ClassVar[str] = "auto_ets"
    method: ClassVar[str] = "AutoETS"
    description: ClassVar[str] = "exponential smoothing (AutoETS) of the area's own history"
    damped: bool | None = None

    def params(self) -> dict[str, Any]:
        return {"damped": self.damped}


class ARIMA(_Classical):
    """ARIMA chosen stepwise by AICc, with orders bounded so that the search stays fast."""

    model: ClassVar[str] = "auto_arima"
    method: ClassVar[str] = "AutoARIMA"
    description: ClassVar[str] = "an ARIMA model (AutoARIMA) of the area's own history"
    max_p: int = Field(default=2, ge=0, le=5)
    max_q: int = Field(default=2, ge=0, le=5)
    max_d: int = Field(default=1, ge=0, le=2)
    max_P: int = Field(default=1, ge=0, le=2)
    max_Q: int = Field(default=1, ge=0, le=2)
    max_order: int = Field(default=4, ge=1, le=10)

    def params(self) -> dict[str, Any]:
        return self.model_dump(exclude={"name"}) | {"max_D": 1, "stepwise": True, "nmodels": 30}


class Theta(_Classical):
    """The Theta method, its variant chosen for each area (AutoTheta)."""

    model: ClassVar[str] = "auto_theta"
    method: ClassVar[str] = "AutoTheta"
    description: ClassVar[str] = "the Theta method (AutoTheta) on the area's own history"


class Croston(_Classical):
    """Croston's method with optimised smoothing, for intermittent series."""

    model: ClassVar[str] = "croston"
    method: ClassVar[str] = "CrostonOptimized"
    description: ClassVar[str] = "Croston's method for intermittent demand on the area's own history"


class Aggregated(_Classical):
    """ADIDA (one aggregation level) or IMAPA (several), for intermittent series."""

    model: ClassVar[str] = "intermittent_aggregated"
    description: ClassVar[str] = "temporal aggregation for intermittent demand (ADIDA/IMAPA) on the area's history"
    variant: Literal["adida", "imapa"] = "imapa"

    @property
    def method(self) -> str:  # type: ignore[override]
        return self.variant.upper()

    def default_name(self) -> str:
        return self.variant

    def params(self) -> dict[str, Any]:
        return {}


class TSB(_Classical):
    """Teunter-Syntetos-Babai: smoothed demand size and probability, for series that go to zero."""

    model: ClassVar[str] = "tsb"
    method: ClassVar[str] = "TSB"
    description: ClassVar[str] = "the TSB method for intermittent demand on the area's own history"
    alpha_d: float = Field(default=0.2, gt=0, le=1)
    alpha_p: float = Field(default=0.2, gt=0, le=1)
