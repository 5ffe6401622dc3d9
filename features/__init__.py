"""Catalogue of feature builders: panel -> leakage-free feature columns.

Registration is explicit: add a builder class here to make it usable from an experiment YAML as
`{builder: <name>, ...parameters}`.
"""

from features.areas import RegionalTrend, StaticAttributes
from features.base import BuildContext, FeatureBuilder, FeatureInfo
from features.calendar import Seasonal, StructuralBreak
from features.covariates import PublishedCovariate
from features.history import Growth, Lag, Rolling

BUILDERS: dict[str, type[FeatureBuilder]] = {
    "lag": Lag,
    "rolling": Rolling,
    "growth": Growth,
    "seasonal": Seasonal,
    "structural_break": StructuralBreak,
    "covariate": PublishedCovariate,
    "static": StaticAttributes,
    "regional_trend": RegionalTrend,
}

__all__ = ["BUILDERS", "BuildContext", "FeatureBuilder", "FeatureInfo"]
