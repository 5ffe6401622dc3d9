"""Time-varying covariates, only as published at the origin.

A covariate with publication lag L is known for periods up to origin - L, so its smallest usable
lag is L + 1 (lag 1 being the origin itself). Asking for a smaller lag is a configuration error.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from features.base import BuildContext, FeatureBuilder, FeatureInfo, humanise
from workbench.data.contract import AREA, PERIOD, PanelSpec


class PublishedCovariate(FeatureBuilder):
    """A covariate's latest published values at the origin, optionally logged, as a deviation
    from the same period's average over all areas (`relative`), and as a change over `change` periods."""

    builder: ClassVar[str] = "covariate"
    column: str
    lags: list[int] | None = Field(default=None, min_length=1)
    transform: Literal["level", "log"] = "level"
    relative: bool = False
    change: int | None = Field(default=None, ge=1)
    concept: str | None = None

    @property
    def name(self) -> str:
        parts = [f"covariate_{self.column}", self.transform]
        if self.lags:
            parts.append("lags_" + "_".join(map(str, self.lags)))
        if self.relative:
            parts.append("relative")
        if self.change:
            parts.append(f"change{self.change}")
        return "_".join(parts)

    def needs(self, spec: PanelSpec, target: str) -> list[str]:
        return [self.column]

    def lags_for(self, spec: PanelSpec) -> list[int]:
        return self.lags or [spec.publication_lag(self.column) + 1]

    def problems(self, spec: PanelSpec) -> list[str]:
        if self.column not in spec.covariate_names:
            return [f"'{self.column}' is not a covariate of the panel; covariates: {', '.join(spec.covariate_names)}"]
        smallest = spec.publication_lag(self.column) + 1
        early = [k for k in self.lags_for(spec) if k < smallest]
        if early:
            return [
                f"lag {early[0]} of '{self.column}' is not published at the origin (publication lag "
                f"{smallest - 1}); the smallest usable lag is {smallest}"
            ]
        return []

    def _feature(self, k: int) -> str:
        suffix = ("_log" if self.transform == "log" else "") + ("_rel" if self.relative else "")
        if self.change:
            return f"{self.column}_change{self.change}_lag{k}{suffix}"
        return f"{self.column}_lag{k}{suffix}"

    def infos(self, spec: PanelSpec, target: str) -> list[FeatureInfo]:
        concept = self.concept or humanise(self.column)
        return [FeatureInfo(self._feature(k), concept) for k in self.lags_for(spec)]

    def build(self, ctx: BuildContext) -> pd.DataFrame:
        values = ctx.frame[self.column]
        if self.transform == "log" or self.change:
            values = np.log(values.where(values > 0))
        if self.relative:  # every area's value for a period is published at the same time
            values = values - values.groupby(ctx.frame[PERIOD]).transform("mean")
        if self.change:
            values = values - values.groupby(ctx.frame[AREA], sort=False).shift(self.change)
        grouped = values.groupby(ctx.frame[AREA], sort=False)
        return pd.DataFrame(
            {self._feature(k): grouped.shift(k - 1) for k in self.lags_for(ctx.spec)}, index=ctx.frame.index
        )
