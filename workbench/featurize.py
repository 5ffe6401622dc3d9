"""Panel -> feature table: one row per (area, origin, horizon) with the features known at the
origin, the target at origin + horizon, and the reference columns baselines and metrics use.

Because every builder only looks backwards from its origin, the table is built once for the whole
panel and each backtest fold takes the rows it is allowed to see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.base import BuildContext, FeatureBuilder, FeatureInfo
from workbench.data.contract import ACTUAL, AREA, HORIZON, ORIGIN, PERIOD, TARGET_PERIOD, Panel
from workbench.errors import ConfigError

HORIZON_FEATURE = FeatureInfo(HORIZON, "forecast horizon")


@dataclass(frozen=True)
class FeatureTable:
    frame: pd.DataFrame
    features: tuple[FeatureInfo, ...]
    target: str
    horizons: tuple[int, ...]

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def concept_of(self) -> dict[str, str]:
        return {f.name: f.concept for f in self.features}


def check_builders(builders: Sequence[FeatureBuilder], panel: Panel, *, target: str, source: str) -> None:
    """Refuse builders that cannot run on this panel, before anything is computed or logged."""
    problems = [
        f"{source}: features[{i}] ({b.builder}): {p}" for i, b in enumerate(builders) for p in b.problems(panel.spec)
    ]
    missing = [
        f"{source}: features[{i}] ({b.builder}) needs column '{c}', which the panel does not have"
        for i, b in enumerate(builders)
        for c in b.needs(panel.spec, target)
        if c not in panel.frame
    ]
    names: dict[str, int] = {}
    for i, builder in enumerate(builders):
        for info in builder.infos(panel.spec, target):
            if info.name in names:
                problems.append(
                    f"{source}: features[{i}] makes '{info.name}', which features[{names[info.name]}] "
                    "already makes; remove one of them"
                )
            names[info.name] = i
    if problems or missing:
        raise ConfigError("\n".join(problems + missing))


def _references(ctx: BuildContext, windows: set[int]) -> pd.DataFrame:
    s = ctx.season_length
    years_back = -(-ctx.horizon // s)
    y = ctx.frame[ctx.target]
    step_error = (y - ctx.by_area[ctx.target].shift(1)).abs()
    out = {
        "ref_last": y,
        "ref_same_period_last_year": ctx.lag(ctx.target, years_back * s - ctx.horizon + 1),
        # MASE scale: mean absolute one-step change of the series up to the origin (in-sample naive error)
        "ref_mase_scale": step_error.groupby(ctx.frame[AREA], sort=False)
        .expanding()
        .mean()
        .reset_index(level=0, drop=True),
    }
    for w in sorted(windows):
        out[f"ref_recent_mean_w{w}"] = (
            ctx.by_area[ctx.target].rolling(w, min_periods=1).mean().reset_index(level=0, drop=True)
        )
    return pd.DataFrame(out, index=ctx.frame.index)


def build_feature_table(
    panel: Panel,
    *,
    target: str,
    builders: Sequence[FeatureBuilder],
    horizons: Sequence[int],
    reference_windows: set[int] | frozenset[int] = frozenset({4}),
) -> FeatureTable:
    frame = panel.frame.sort_values([AREA, PERIOD]).reset_index(drop=True)
    infos = (*tuple(info for b in builders for info in b.infos(panel.spec, target)), HORIZON_FEATURE)
    parts = []
    for horizon in horizons:
        ctx = BuildContext(frame=frame, spec=panel.spec, target=target, horizon=horizon)
        built = [b.build(ctx) for b in builders]
        keys = pd.DataFrame(
            {
                AREA: frame[AREA],
                ORIGIN: frame[PERIOD],
                HORIZON: horizon,
                TARGET_PERIOD: ctx.target_period,
                ACTUAL: ctx.by_area[target].shift(-horizon),
            }
        )
        parts.append(pd.concat([keys, *built, _references(ctx, set(reference_windows))], axis=1))
    table = pd.concat(parts, ignore_index=True)
    for info in infos:
        if info.kind in {"count", "numeric", "flag"} and info.name != HORIZON:
            table[info.name] = table[info.name].astype(np.float32)
    return FeatureTable(frame=table, features=infos, target=target, horizons=tuple(horizons))
