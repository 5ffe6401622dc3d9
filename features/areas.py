"""Features of the area: its static attributes, and what is happening in its region."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from features.base import BuildContext, FeatureBuilder, FeatureInfo, as_category, humanise
from workbench.data.contract import PERIOD, PanelSpec

REGIONAL_TREND = "regional trend"
CONCEPTS = {
    "deprivation_score": "deprivation",
    "deprivation_quintile": "deprivation",
    "urban_rural": "urban/rural",
    "region": "region",
    "area_type": "area type",
    "ethnic_minority_share": "population make-up",
    "ethnic_minority_band": "population make-up",
}


class StaticAttributes(FeatureBuilder):
    """Attributes of the area that do not change over time: numbers as they are, the rest as categories."""

    builder: ClassVar[str] = "static"
    columns: list[str] = Field(min_length=1)

    @property
    def name(self) -> str:
        return "static_" + "_".join(self.columns)

    def needs(self, spec: PanelSpec, target: str) -> list[str]:
        return list(self.columns)

    def problems(self, spec: PanelSpec) -> list[str]:
        unknown = [c for c in self.columns if c not in spec.static]
        return [f"'{c}' is not a static attribute of the panel; static: {', '.join(spec.static)}" for c in unknown]

    def infos(self, spec: PanelSpec, target: str) -> list[FeatureInfo]:
        return [
            FeatureInfo(c, CONCEPTS.get(c, humanise(c)), "numeric" if c in spec.numeric_static else "category")
            for c in self.columns
        ]

    def build(self, ctx: BuildContext) -> pd.DataFrame:
        out = {}
        for column in self.columns:
            values = ctx.frame[column]
            out[column] = values.astype(float) if column in ctx.spec.numeric_static else as_category(values)
        return pd.DataFrame(out, index=ctx.frame.index)


class RegionalTrend(FeatureBuilder):
    """Growth of the target over `periods` up to the origin in the other areas of the same group
    (by default the region), leaving the area itself out."""

    builder: ClassVar[str] = "regional_trend"
    level: str = "region"
    periods: int = Field(default=4, ge=1)

    @property
    def name(self) -> str:
        return f"regional_trend_{self.level}_p{self.periods}"

    def needs(self, spec: PanelSpec, target: str) -> list[str]:
        return [target, self.level]

    def problems(self, spec: PanelSpec) -> list[str]:
        if self.level not in spec.static:
            return [f"'{self.level}' is not a static attribute of the panel; static: {', '.join(spec.static)}"]
        return []

    def _feature(self, target: str) -> str:
        return f"{target}_{self.level}_growth_p{self.periods}_excl_self"

    def infos(self, spec: PanelSpec, target: str) -> list[FeatureInfo]:
        return [FeatureInfo(self._feature(target), REGIONAL_TREND)]

    def build(self, ctx: BuildContext) -> pd.DataFrame:
        now = ctx.frame[ctx.target]
        before = ctx.by_area[ctx.target].shift(self.periods)
        both = now.notna() & before.notna()
        now, before = now.where(both, 0.0), before.where(both, 0.0)
        keys = [ctx.frame[self.level], ctx.frame[PERIOD]]
        total_now = now.groupby(keys).transform("sum") - now
        total_before = before.groupby(keys).transform("sum") - before
        growth = np.log((total_now + 1) / (total_before + 1))
        others = both.groupby(keys).transform("sum") - both.astype(int)
        return pd.DataFrame({self._feature(ctx.target): growth.where(others > 0)}, index=ctx.frame.index)
