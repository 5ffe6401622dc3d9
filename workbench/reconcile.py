"""Totals that add up: area forecasts reconciled over the experiment's hierarchy (area -> each
declared group level -> all areas) with hierarchicalforecast.

Each aggregate (a region, the total) gets a base forecast of its own, AutoETS on its summed history
up to the origin, so that a reconciler has two views to combine: BottomUp keeps the areas and adds
them up; MinTrace (`wls_struct`, `ols`) moves every level to the coherent forecasts closest to all
base forecasts. In the backtest every method is scored at every level (WAPE, MAE, RMSE, bias) on the
selected model's folds. The method with the lowest WAPE on the total is chosen, BottomUp unless
another beats it there without a worse WAPE on the areas. Aggregates get split-conformal intervals
from the chosen method's backtest residuals per level and horizon (`workbench.intervals`), and the
backtest reports their coverage calibrated on earlier folds only. Unlike the areas' intervals, which
use the latest origins only (`backtest.interval_calibration_origins`), a total's use every earlier
origin: it has one residual per origin, too few to window. Negative
reconciled areas are set to zero and every aggregate is then the exact sum of its areas.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from workbench.backtest import BacktestResult, Fold
from workbench.config import Experiment, HierarchyConfig
from workbench.data.contract import ACTUAL, AREA, HORIZON, ORIGIN, PERIOD, TARGET_PERIOD, Panel
from workbench.errors import ConfigError
from workbench.intervals import ConformalBand, log_residuals
from workbench.metrics import point_metrics

TOTAL = "total"
AREA_LEVEL = "area"
BASE = "base"  # unreconciled: the model's areas and each aggregate's own forecast, not coherent
DEFAULT = "bottom_up"
MIN_AGGREGATE_HISTORY = 4  # periods; shorter aggregate histories are forecast by their last value


def check_hierarchy(experiment: Experiment, panel: Panel) -> None:
    """The declared levels are group columns of the panel, known for every area and nested."""
    config = experiment.hierarchy
    if config is None:
        return
    source = experiment.path or "experiment"
    groups = panel.spec.groups
    unknown = [level for level in config.levels if level not in groups]
    if unknown:
        known = ", ".join(groups) or "none"
        raise ConfigError(
            f"{source}: hierarchy.levels: '{unknown[0]}' is not one of the panel's group columns ({known}); "
            f"list group columns, coarsest first (e.g. levels: [{groups[0] if groups else 'region'}]), or declare "
            "it under data.file.columns.groups"
        )
    static = panel.static_table()
    for level in config.levels:
        missing = static.index[static[level].isna()]
        if len(missing):
            raise ConfigError(
                f"{source}: hierarchy.levels: {len(missing)} areas have no '{level}' (e.g. {missing[0]}); "
                f"fill '{level}' for every area or leave it out of the hierarchy"
            )
    for coarse, fine in zip(config.levels, config.levels[1:], strict=False):
        parents = static.groupby(fine)[coarse].nunique()
        split = parents[parents > 1]
        if len(split):
            raise ConfigError(
                f"{source}: hierarchy.levels: '{fine}' is not nested in '{coarse}' ({fine} '{split.index[0]}' lies in "
                f"{int(split.iloc[0])} values of {coarse}); list only nested group columns, coarsest first"
            )


@dataclass(frozen=True)
class Hierarchy:
    """The nodes and the summing matrix S: the total first, then each level's nodes, the areas last
    (the order hierarchicalforecast expects: S ends with the identity over the areas)."""

    levels: tuple[str, ...]
    nodes: pd.DataFrame  # level, node: one row per row of S
    summing: sparse.csr_matrix
    areas: pd.Index

    @classmethod
    def of(cls, membership: pd.DataFrame, *, levels: Sequence[str], total_label: str) -> Hierarchy:
        """`membership`: one row per area (its index, in the order of the bottom of S), a column per level."""
        areas = membership.index
        n = len(areas)
        blocks = [sparse.csr_matrix(np.ones((1, n)))]
        nodes = [(TOTAL, total_label)]
        for level in levels:
            values = membership[level].astype(str).to_numpy()
            names, codes = np.unique(values, return_inverse=True)
            blocks.append(sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(len(names), n)))
            nodes += [(level, str(name)) for name in names]
        blocks.append(sparse.identity(n, format="csr"))
        nodes += [(AREA_LEVEL, str(area)) for area in areas]
        return cls(tuple(levels), pd.DataFrame(nodes, columns=["level", "node"]), sparse.vstack(blocks).tocsr(), areas)

    @property
    def aggregates(self) -> int:
        return int(self.summing.shape[0]) - len(self.areas)


def reconcile(hierarchy: Hierarchy, base: np.ndarray, method: str) -> np.ndarray:
    """Coherent forecasts for every node (rows of S) and horizon (columns of `base`)."""
    from hierarchicalforecast.methods import BottomUpSparse, MinTraceSparse

    reconciler = BottomUpSparse() if method == DEFAULT else MinTraceSparse(method=method.removeprefix("min_trace_"))
    mean = np.asarray(reconciler.fit_predict(S=hierarchy.summing, y_hat=base)["mean"], dtype=float)
    areas = np.clip(mean[hierarchy.aggregates :], 0, None)
    return np.asarray(hierarchy.summing @ areas)


def aggregate_forecasts(
    panel: Panel, *, target: str, hierarchy: Hierarchy, origin: pd.Period, steps: int
) -> np.ndarray:
    """Each aggregate's own forecast (AutoETS on its summed history up to `origin`), aggregates x steps."""
    known = panel.frame[(panel.frame[PERIOD] <= origin) & panel.frame[AREA].isin(hierarchy.areas)]
    wide = known.pivot(index=AREA, columns=PERIOD, values=target).reindex(hierarchy.areas).fillna(0.0)
    history = np.asarray(hierarchy.summing[: hierarchy.aggregates] @ wide.to_numpy(float))
    season = panel.spec.frequency.periods_per_year
    return np.vstack([_ets(values, steps=steps, season=season) for values in history])


def _ets(values: np.ndarray, *, steps: int, season: int) -> np.ndarray:
    from statsforecast.models import AutoETS  # imported here: numba compiles on first import

    if len(values) < MIN_AGGREGATE_HISTORY or np.ptp(values) == 0:
        return np.full(steps, values[-1] if len(values) else 0.0)
    seasonal = season if len(values) >= 2 * season + 2 else 1
    try:
        mean = np.asarray(AutoETS(season_length=seasonal).forecast(y=values, h=steps)["mean"], dtype=float)
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
        return np.full(steps, values[-1])
    return np.clip(np.where(np.isfinite(mean), mean, values[-1]), 0, None)


@dataclass(frozen=True)
class Reconciliation:
    """What the backtest chose and why, the scores at every level, and the aggregates' interval bands."""

    method: str
    levels: tuple[str, ...]
    total_label: str
    reason: str
    bands: dict[str, dict[int, ConformalBand]]  # aggregate level -> horizon -> band
    scores: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)  # method, level, wape, mae, ...

    def metrics(self) -> dict[str, float]:
        """`reconcile.<method>.<level>.<metric>` for MLflow."""
        out = {}
        for row in self.scores.itertuples(index=False):
            for name in ("wape", "mae", "rmse", "bias", "coverage"):
                value = getattr(row, name)
                if pd.notna(value):
                    out[f"reconcile.{row.method}.{row.level}.{name}"] = float(value)
        return out

    def to_json(self) -> str:
        bands = {level: {str(h): vars(b) for h, b in by_h.items()} for level, by_h in self.bands.items()}
        keep = {"method": self.method, "levels": list(self.levels), "total_label": self.total_label}
        return json.dumps(keep | {"reason": self.reason, "bands": bands}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Reconciliation:
        raw = json.loads(text)
        bands = {level: {int(h): ConformalBand(**b) for h, b in by_h.items()} for level, by_h in raw["bands"].items()}
        return cls(raw["method"], tuple(raw["levels"]), raw["total_label"], raw["reason"], bands)


def reconcile_backtest(
    experiment: Experiment, panel: Panel, backtest: BacktestResult, *, winner: str
) -> Reconciliation | None:
    """The winner's backtest reconciled and scored at every level; None when no hierarchy is declared."""
    if experiment.hierarchy is None:
        return None
    return backtest_levels(
        backtest,
        candidate=winner,
        panel=panel,
        target=experiment.target,
        config=experiment.hierarchy,
        min_folds=experiment.backtest.min_calibration_folds,
    )


def backtest_levels(
    backtest: BacktestResult, *, candidate: str, panel: Panel, target: str, config: HierarchyConfig, min_folds: int
) -> Reconciliation:
    """Reconcile `candidate`'s backtest forecasts at every fold, score every method at every level,
    choose one and calibrate the aggregates' intervals."""
    predictions = backtest.predictions[backtest.predictions["candidate"] == candidate]
    membership = panel.static_table()[list(config.levels)]
    own_forecasts = any(method != DEFAULT for method in config.methods)  # MinTrace combines them with the areas'
    parts = []
    for fold in backtest.folds:
        rows = predictions[predictions["fold"] == fold.index]
        forecast = rows.pivot(index=AREA, columns=HORIZON, values="forecast")
        actual = rows.pivot(index=AREA, columns=HORIZON, values=ACTUAL)
        complete = forecast.notna().all(axis=1) & actual.reindex(forecast.index).notna().all(axis=1)
        areas = forecast.index[complete]
        hierarchy = Hierarchy.of(membership.loc[areas], levels=config.levels, total_label=config.total_label)
        bottom = forecast.loc[areas].to_numpy(float)
        if own_forecasts:
            own = aggregate_forecasts(
                panel, target=target, hierarchy=hierarchy, origin=fold.origin, steps=int(forecast.columns.max())
            )[:, forecast.columns.to_numpy(int) - 1]
        else:  # BottomUp alone needs no forecast of the aggregates' own
            own = np.asarray(hierarchy.summing[: hierarchy.aggregates] @ bottom)
        base = np.vstack([own, bottom])
        truth = np.asarray(hierarchy.summing @ actual.loc[areas, forecast.columns].to_numpy(float))
        for method in (BASE, *config.methods) if own_forecasts else config.methods:
            values = base if method == BASE else reconcile(hierarchy, base, method)
            parts.append(_long(hierarchy, fold, forecast.columns, method=method, forecast=values, actual=truth))
    scored = pd.concat(parts, ignore_index=True)
    scores = _scores(scored, backtest.folds, level=backtest.level, min_folds=min_folds)
    method, reason = choose(scores, methods=config.methods)
    chosen = scored[(scored["method"] == method) & (scored["level"] != AREA_LEVEL)]
    bands = {
        str(level): {
            int(h): ConformalBand.fit(
                log_residuals(g[ACTUAL].to_numpy(), g["forecast"].to_numpy()), level=backtest.level
            )
            for h, g in rows.groupby(HORIZON)
        }
        for level, rows in chosen.groupby("level", sort=False)
    }
    return Reconciliation(method, tuple(config.levels), config.total_label, reason, bands, scores)


def _long(
    hierarchy: Hierarchy, fold: Fold, horizons: pd.Index, *, method: str, forecast: np.ndarray, actual: np.ndarray
) -> pd.DataFrame:
    n = len(hierarchy.nodes)
    return pd.DataFrame(
        {
            "method": method,
            "fold": fold.index,
            ORIGIN: fold.origin,
            "level": np.repeat(hierarchy.nodes["level"].to_numpy(), len(horizons)),
            "node": np.repeat(hierarchy.nodes["node"].to_numpy(), len(horizons)),
            HORIZON: np.tile(horizons.to_numpy(int), n),
            ACTUAL: actual.ravel(),
            "forecast": forecast.ravel(),
        }
    )


def _scores(scored: pd.DataFrame, folds: Sequence[Fold], *, level: float, min_folds: int) -> pd.DataFrame:
    rows = []
    for (method, name), group in scored.groupby(["method", "level"], sort=False):
        values = point_metrics(group[ACTUAL].to_numpy(float), group["forecast"].to_numpy(float), np.zeros(len(group)))
        values.pop("mase")
        coverage = _coverage(group, folds, level=level, min_folds=min_folds) if name != AREA_LEVEL else np.nan
        rows.append({"method": method, "level": name, **values, "coverage": coverage, "rows": len(group)})
    return pd.DataFrame(rows)


def _coverage(rows: pd.DataFrame, folds: Sequence[Fold], *, level: float, min_folds: int) -> float:
    """Share of actuals inside bands calibrated on every earlier fold whose actuals were known (no
    window: an aggregate has one residual per origin)."""
    rows = rows.assign(residual=log_residuals(rows[ACTUAL].to_numpy(float), rows["forecast"].to_numpy(float)))
    inside = []
    for fold in folds:
        for horizon, part in rows[rows["fold"] == fold.index].groupby(HORIZON):
            earlier = [f.index for f in folds if f.origin + int(horizon) <= fold.origin]
            if len(earlier) < min_folds:
                continue
            known = rows[(rows[HORIZON] == horizon) & rows["fold"].isin(earlier)]["residual"].to_numpy(float)
            lower, upper = ConformalBand.fit(known, level=level).apply(part["forecast"].to_numpy(float))
            inside += list((part[ACTUAL] >= lower) & (part[ACTUAL] <= upper))
    return float(np.mean(inside)) if inside else float("nan")


def choose(scores: pd.DataFrame, *, methods: Sequence[str]) -> tuple[str, str]:
    """The method with the lowest WAPE on the total; BottomUp unless another beats it there without a
    worse WAPE on the areas. Returns the method and a sentence saying why."""
    wape = scores.set_index(["method", "level"])["wape"]
    default_total, default_area = wape[(DEFAULT, TOTAL)], wape[(DEFAULT, AREA_LEVEL)]
    better = [
        m
        for m in methods
        if m != DEFAULT and wape[(m, TOTAL)] < default_total and wape[(m, AREA_LEVEL)] <= default_area + 1e-12
    ]
    if not better:
        return DEFAULT, (
            f"bottom_up: no other method beat its total WAPE ({default_total:.2%}) without a worse area WAPE"
        )
    best = min(better, key=lambda m: wape[(m, TOTAL)])
    return best, (
        f"{best}: total WAPE {wape[(best, TOTAL)]:.2%} against bottom_up's {default_total:.2%}, "
        f"area WAPE {wape[(best, AREA_LEVEL)]:.2%} against {default_area:.2%}"
    )


def reconcile_forecast(
    forecast: pd.DataFrame, *, panel: Panel, target: str, chosen: Reconciliation
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The areas' forecasts after the chosen method (bounds scaled with their forecast), and one row
    per aggregate and horizon: level, node, horizon, target period, forecast, lower, upper, areas.
    Every aggregate is the exact sum of its areas' returned forecasts."""
    wide = forecast.pivot(index=AREA, columns=HORIZON, values="forecast").dropna()
    membership = panel.static_table().loc[wide.index, list(chosen.levels)]
    hierarchy = Hierarchy.of(membership, levels=chosen.levels, total_label=chosen.total_label)
    horizons = wide.columns.to_numpy(int)
    bottom = wide.to_numpy(float)
    if chosen.method == DEFAULT:
        own = np.asarray(hierarchy.summing[: hierarchy.aggregates] @ bottom)
    else:
        origin = pd.Period(forecast[ORIGIN].iloc[0])
        steps = int(horizons.max())
        own = aggregate_forecasts(panel, target=target, hierarchy=hierarchy, origin=origin, steps=steps)
        own = own[:, horizons - 1]
    values = reconcile(hierarchy, np.vstack([own, bottom]), chosen.method)
    adjusted = pd.DataFrame(values[hierarchy.aggregates :], index=wide.index, columns=wide.columns)
    areas = forecast.copy()
    new = adjusted.stack().rename("new")
    key = pd.MultiIndex.from_frame(areas[[AREA, HORIZON]])
    after = new.reindex(key).to_numpy()
    before = areas["forecast"].to_numpy(float)
    ratio = np.where(before > 0, after / np.where(before > 0, before, 1), 1.0)
    areas = areas.assign(forecast=after, lower=areas["lower"] * ratio, upper=areas["upper"] * ratio)
    periods = forecast.drop_duplicates(HORIZON).set_index(HORIZON)[TARGET_PERIOD]
    counts = np.asarray(hierarchy.summing[: hierarchy.aggregates].sum(axis=1)).ravel()
    totals = []
    for j, horizon in enumerate(horizons):
        nodes = hierarchy.nodes.iloc[: hierarchy.aggregates]
        point = values[: hierarchy.aggregates, j]
        lower, upper = np.full(len(point), np.nan), np.full(len(point), np.nan)
        for level in nodes["level"].unique():
            band = chosen.bands.get(level, {}).get(int(horizon))
            at = (nodes["level"] == level).to_numpy()
            if band is not None:
                lower[at], upper[at] = band.apply(point[at])
        totals.append(
            nodes.assign(
                **{HORIZON: horizon, TARGET_PERIOD: periods[horizon]},
                forecast=point,
                lower=lower,
                upper=upper,
                areas=counts.astype(int),
            )
        )
    return areas, pd.concat(totals, ignore_index=True)


def forecast_totals(
    forecast: pd.DataFrame, *, panel: Panel, target: str, config: HierarchyConfig | None, chosen: Reconciliation | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """`reconcile_forecast` with the champion's choice (BottomUp without intervals when none was
    recorded); the forecast unchanged and no totals when the experiment declares no hierarchy."""
    if config is None:
        return forecast, None
    if chosen is None:
        reason = "bottom_up: the champion's training run recorded no choice"
        chosen = Reconciliation(DEFAULT, tuple(config.levels), config.total_label, reason, {})
    return reconcile_forecast(forecast, panel=panel, target=target, chosen=chosen)
