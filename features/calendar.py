"""Features of the calendar: where the forecast period falls in the year, and structural breaks."""

from __future__ import annotations

from typing import ClassVar

import pandas as pd
from pydantic import field_validator

from features.base import BuildContext, FeatureBuilder, FeatureInfo, as_category
from workbench.data.contract import AREA, PERIOD, PanelSpec

SEASONALITY = "seasonality"


class Seasonal(FeatureBuilder):
    """The forecast period's position in the year (quarter or month) and, optionally, the target in
    the same period a year before it (the latest such value observed at the origin)."""

    builder: ClassVar[str] = "seasonal"
    same_period_last_year: bool = True

    @property
    def name(self) -> str:
        return "seasonal" + ("_with_last_year" if self.same_period_last_year else "")

    def infos(self, spec: PanelSpec, target: str) -> list[FeatureInfo]:
        position = "quarter" if spec.frequency.periods_per_year == 4 else "month"
        infos = [FeatureInfo(f"{position}_of_year", SEASONALITY, "category")]
        if self.same_period_last_year:
            infos.append(FeatureInfo(f"{target}_same_period_last_year", SEASONALITY, "count"))
        return infos

    def build(self, ctx: BuildContext) -> pd.DataFrame:
        s = ctx.season_length
        position = "quarter" if s == 4 else "month"
        target_period = ctx.target_period
        values = target_period.dt.quarter if s == 4 else target_period.dt.month
        out = {f"{position}_of_year": as_category(values, categories=list(range(1, s + 1)))}
        if self.same_period_last_year:
            years_back = -(-ctx.horizon // s)  # the nearest same period that is observed at the origin
            out[f"{ctx.target}_same_period_last_year"] = ctx.lag(ctx.target, years_back * s - ctx.horizon + 1)
        return pd.DataFrame(out, index=ctx.frame.index)


class StructuralBreak(FeatureBuilder):
    """Marks a period that is not ordinary history (by default the COVID break, 2020Q2 to 2021Q2):
    whether the forecast period falls inside it, and the share of the last `window` periods that did."""

    builder: ClassVar[str] = "structural_break"
    label: str = "covid"
    start: str = "2020Q2"
    end: str = "2021Q2"
    window: int = 4

    @field_validator("label")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError(f"label '{value}' must be a single word (letters, digits, underscores)")
        return value

    @property
    def name(self) -> str:
        return f"break_{self.label}_{self.start}_{self.end}_w{self.window}"

    @property
    def concept(self) -> str:
        """The concept both of its features belong to, such as 'COVID period'."""
        return f"{self.label.upper() if len(self.label) <= 5 else self.label} period"

    def infos(self, spec: PanelSpec, target: str) -> list[FeatureInfo]:
        return [
            FeatureInfo(f"{self.label}_break_in_forecast_period", self.concept, "flag"),
            FeatureInfo(f"{self.label}_break_share_last{self.window}", self.concept),
        ]

    def _inside(self, periods: pd.Series) -> pd.Series:
        freq = periods.dt.freq
        start, end = pd.Period(self.start, freq=freq), pd.Period(self.end, freq=freq)
        return ((periods >= start) & (periods <= end)).astype(float)

    def build(self, ctx: BuildContext) -> pd.DataFrame:
        inside_now = self._inside(ctx.frame[PERIOD])
        share = inside_now.groupby(ctx.frame[AREA], sort=False).rolling(self.window, min_periods=1).mean()
        return pd.DataFrame(
            {
                f"{self.label}_break_in_forecast_period": self._inside(ctx.target_period),
                f"{self.label}_break_share_last{self.window}": share.reset_index(level=0, drop=True),
            },
            index=ctx.frame.index,
        )
