"""Catalogue of model specs: baselines, a Poisson GLM and LightGBM.

Registration is explicit: add a spec class here to make it usable from an experiment YAML as
`{model: <name>, ...parameters}`.
"""

from models.base import Forecaster, ModelSpec
from models.baselines import Naive, RecentMean, SeasonalNaive
from models.gbm import LightGBM
from models.glm import PoissonGLM

MODELS: dict[str, type[ModelSpec]] = {
    "naive": Naive,
    "seasonal_naive": SeasonalNaive,
    "recent_mean": RecentMean,
    "poisson_glm": PoissonGLM,
    "lightgbm": LightGBM,
}

__all__ = ["MODELS", "Forecaster", "ModelSpec"]
