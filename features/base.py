"""What every feature builder shares.

A builder is a small frozen model of its parameters with a `name` derived from them. `build`
takes the panel as of every origin and returns one row per (area, origin) aligned with the panel's
rows; a value in the row for origin T may only use information available at T: the target up to
T, each covariate up to T minus its publication lag, static attributes, and the calendar.

Conventions: lag k of a series is its value k - 1 periods before the origin, so lag 1 is the
latest observed value. The forecast is for origin + horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Literal

import pandas as pd
from pandas.api.typing import DataFrameGroupBy
from pydantic import BaseModel, ConfigDict

from workbench.data.contract import AREA, PERIOD, PanelSpec

Kind = Literal["count", "numeric", "category", "flag"]


@dataclass(frozen=True)
class FeatureInfo:
    """What a feature column is: its kind decides encoding (counts are logged for the GLM);
    its concept groups related features under a name a policy reader knows."""

    name: str
    concept: str
    kind: Kind = "numeric"


@dataclass(frozen=True)
class BuildContext:
    """The panel as builders see it: sorted by (area, period), complete series, RangeIndex."""

    frame: pd.DataFrame
    spec: PanelSpec
    target: str
    horizon: int

    @cached_property
    def by_area(self) -> DataFrameGroupBy:
        return self.frame.groupby(AREA, sort=False)

    def lag(self, column: str, k: int) -> pd.Series:
        """Value of `column` k - 1 periods before each row's origin (lag 1 = the origin itself)."""
        return self.by_area[column].shift(k - 1)

    @property
    def season_length(self) -> int:
        return self.spec.frequency.periods_per_year

    @cached_property
    def target_period(self) -> pd.Series:
        return self.frame[PERIOD] + self.horizon


class FeatureBuilder(BaseModel):
    """Base class: subclasses declare parameters as fields and implement `name`, `infos`, `build`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    builder: ClassVar[str]

    @property
    def name(self) -> str:
        raise NotImplementedError

    def needs(self, spec: PanelSpec, target: str) -> list[str]:
        """Panel columns this builder reads."""
        return [target]

    def problems(self, spec: PanelSpec) -> list[str]:
        """What makes this builder unusable on a panel with `spec` (empty when it fits)."""
        return []

    def infos(self, spec: PanelSpec, target: str) -> list[FeatureInfo]:
        raise NotImplementedError

    def build(self, ctx: BuildContext) -> pd.DataFrame:
        raise NotImplementedError


def as_category(values: pd.Series, categories: list[object] | None = None) -> pd.Categorical:
    """Categories are always text, so a model served from MLflow sees the same ones it was trained on."""
    text = values.astype("string")
    cats = [str(c) for c in categories] if categories is not None else sorted(text.dropna().unique())
    return pd.Categorical(text, categories=cats)


def humanise(column: str) -> str:
    return column.replace("_", " ")
