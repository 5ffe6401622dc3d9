"""Catalogue of model specs: baselines, a Poisson GLM, LightGBM, classical per-series models and
forecast combinations of the others.

Registration is explicit: add a spec class here to make it usable from an experiment YAML as
`{model: <name>, ...parameters}`.
"""

from models.base import Forecaster, ModelSpec
from models.baselines import Naive, RecentMean, SeasonalNaive
from models.classical import ARIMA, ETS, TSB, Aggregated, Croston, Theta
from models.combination import Combination
from models.gbm import LightGBM
from models.glm import PoissonGLM

MODELS: dict[str, type[ModelSpec]] = {
    "naive": Naive,
    "seasonal_naive": SeasonalNaive,
    "recent_mean": RecentMean,
    "poisson_glm": PoissonGLM,
    "lightgbm": LightGBM,
    "auto_ets": ETS,
    "auto_arima": ARIMA,
    "auto_theta": Theta,
    "croston": Croston,
    "intermittent_aggregated": Aggregated,
    "tsb": TSB,
    "combination": Combination,
}

__all__ = ["MODELS", "Forecaster", "ModelSpec"]
