"""Features from the target's own history: lags, rolling statistics, growth."""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from features.base import BuildContext, FeatureBuilder, FeatureInfo, Kind
from workbench.data.contract import PanelSpec

RECENT_DEMAND = "recent demand"


class Lag(FeatureBuilder):
    """The target's recent values: lag 1 is the latest observed value at the origin."""

    builder: ClassVar[str] = "lag"
    lags: list[int] = Field(default=[1, 2, 3, 4], min_length=1)

    @property
    def name(self) -> str:
        return "lag_" + "_".join(map(str, self.lags))

    def infos(self, spec: PanelSpec, target: str) -> list[FeatureInfo]:
        return [FeatureInfo(f"{target}_lag{k}", RECENT_DEMAND, "count") for k in self.lags]

    def build(self, ctx: BuildContext) -> pd.DataFrame:
        return pd.DataFrame({f"{ctx.target}_lag{k}": ctx.lag(ctx.target, k) for k in self.lags})


class Rolling(FeatureBuilder):
    """A statistic of the target over the last `window` periods up to the origin."""

    builder: ClassVar[str] = "rolling"
    stat: Literal["mean", "std", "min", "max"] = "mean"
    windows: list[int] = Field(default=[4], min_length=1)

    @property
    def name(self) -> str:
        return f"rolling_{self.stat}_" + "_".join(f"w{w}" for w in self.windows)

    def infos(self, spec: PanelSpec, target: str) -> list[FeatureInfo]:
        kind: Kind = "count" if self.stat in {"mean", "min", "max"} else "numeric"
        return [FeatureInfo(f"{target}_rolling_{self.stat}_w{w}", RECENT_DEMAND, kind) for w in self.windows]

    def build(self, ctx: BuildContext) -> pd.DataFrame:
        out = {}
        for w in self.windows:
            rolled = ctx.by_area[ctx.target].rolling(w, min_periods=w)
            out[f"{ctx.target}_rolling_{self.stat}_w{w}"] = getattr(rolled, self.stat)().reset_index(level=0, drop=True)
        return pd.DataFrame(out, index=ctx.frame.index)


class Growth(FeatureBuilder):
    """Change in the target over `periods` up to the origin: a difference, a percentage or a log ratio."""

    builder: ClassVar[str] = "growth"
    periods: list[int] = Field(default=[1, 4], min_length=1)
    kind: Literal["difference", "percent", "log_ratio"] = "log_ratio"

    @property
    def name(self) -> str:
        return f"growth_{self.kind}_" + "_".join(f"p{p}" for p in self.periods)

    def infos(self, spec: PanelSpec, target: str) -> list[FeatureInfo]:
        return [FeatureInfo(f"{target}_growth_{self.kind}_p{p}", RECENT_DEMAND) for p in self.periods]

    def build(self, ctx: BuildContext) -> pd.DataFrame:
        now = ctx.frame[ctx.target]
        out = {}
        for p in self.periods:
            before = ctx.by_area[ctx.target].shift(p)
            if self.kind == "difference":
                values = now - before
            elif self.kind == "percent":
                values = (now / before.where(before > 0) - 1) * 100
            else:
                values = np.log1p(now) - np.log1p(before)
            out[f"{ctx.target}_growth_{self.kind}_p{p}"] = values
        return pd.DataFrame(out, index=ctx.frame.index)
