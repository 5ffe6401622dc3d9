"""`make forecast`: the champion's explained forecasts for every area from the latest data.

champion (registry) -> features as of the latest data -> forecast with intervals -> explanations
-> disclosure-controlled CSV, HTML report, model card, transparency record -> a forecast run in
MLflow linked to the model version. Outputs are written to a temporary folder and moved into
place only when everything, logging included, has succeeded.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console

from workbench.config import Experiment, load_experiment
from workbench.data.contract import ACTUAL, AREA, AREA_NAME, HORIZON, ORIGIN, PERIOD, REGION, TARGET_PERIOD, Panel
from workbench.data.load import load_panel
from workbench.errors import ConfigError
from workbench.explain.contrast import contrast, reference_rows
from workbench.explain.drivers import baseline_table, driver_table
from workbench.explain.values import explain_rows
from workbench.explain.wording import wording_for
from workbench.featurize import build_feature_table, check_builders
from workbench.fit import latest_rows
from workbench.forecast_record import ForecastResult
from workbench.reconcile import forecast_totals
from workbench.record import contract_of
from workbench.tracking.champion import ChampionModel, load_champion

OUTPUTS = Path("outputs") / "forecasts"


def _model_input(champion: ChampionModel, rows: pd.DataFrame) -> pd.DataFrame:
    columns = champion.input_columns
    frame = rows[columns].copy()
    for column in columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(str)
    return frame.assign(horizon=frame[HORIZON].astype(float))


def check_contract(experiment: Experiment, champion: ChampionModel, panel: Panel) -> None:
    """Refuse to publish when the champion was registered for another target, frequency, horizon or kind of area."""
    expected = contract_of(experiment, panel)
    differs = {k: (v, expected[k]) for k, v in champion.contract.items() if k in expected and expected[k] != v}
    if differs:
        detail = "; ".join(f"{k} is '{old}' for the champion but '{new}' here" for k, (old, new) in differs.items())
        raise ConfigError(
            f"{experiment.path}: the champion of '{champion.name}' (version {champion.version}) has another contract "
            f"({detail}); nothing was published. Train this experiment under its own name."
        )


def make_forecast(experiment: Experiment, champion: ChampionModel) -> ForecastResult:
    trained = champion.trained
    panel = load_panel(experiment.data)
    check_contract(experiment, champion, panel)
    target = trained.target
    check_builders(trained.features, panel, target=target, source=str(experiment.path))
    table = build_feature_table(
        panel,
        target=target,
        builders=trained.features,
        horizons=trained.horizons,
        reference_windows=trained.reference_windows(),
    )
    rows = latest_rows(table)
    predicted = champion.predict(_model_input(champion, rows))
    static = panel.static_table()
    names = static[AREA_NAME] if AREA_NAME in static else pd.Series(dtype=str)
    spec = next(m for m in trained.models if m.candidate == champion.candidate)
    wording = wording_for(
        trained.features,
        target_label=experiment.report.target_label,
        period_word=panel.spec.frequency.label,
        reference=trained.explain.reference,
        periods=trained.explain.reference_periods,
    )
    forecast = rows[[AREA, ORIGIN, HORIZON, TARGET_PERIOD]].assign(
        forecast=predicted["forecast"].to_numpy(),
        lower=predicted["lower"].to_numpy(),
        upper=predicted["upper"].to_numpy(),
    )
    forecast, totals = forecast_totals(
        forecast, panel=panel, target=target, config=trained.hierarchy, chosen=champion.reconciliation
    )
    if spec.explainer == "baseline":
        drivers = baseline_table(
            spec,
            rows=rows,
            forecast=forecast,
            names=names,
            level=trained.backtest.interval_level,
            wording=wording,
        )
    else:
        forecaster = champion.forecaster
        train = table.frame[table.frame[ACTUAL].notna()]
        background = train.sample(min(2000, len(train)), random_state=trained.seed)
        references, owner = reference_rows(
            table.frame,
            rows,
            reference=trained.explain.reference,
            periods=trained.explain.reference_periods,
            periods_per_year=panel.spec.frequency.periods_per_year,
        )
        explanation, reference_explanation = (
            explain_rows(
                spec,
                forecaster,
                frame,
                background=background,
                features=table.features,
                seed=trained.seed,
                max_evals=trained.explain.max_evals,
            )
            for frame in (rows, references)
        )
        change = contrast(explanation, reference_explanation, owner=owner, actual=references["actual"].to_numpy(float))
        drivers = driver_table(
            explanation,
            rows=rows,
            names=names,
            lower=forecast["lower"].to_numpy(),
            upper=forecast["upper"].to_numpy(),
            level=trained.backtest.interval_level,
            top=trained.explain.top_drivers,
            wording=wording,
            contrast=change,
        )
    areas = _with_reconciled(drivers, forecast)
    if REGION in static:
        areas[REGION] = areas[AREA].map(static[REGION])
    for level in trained.hierarchy.levels if trained.hierarchy else ():
        areas[level] = areas[AREA].map(static[level])
    actual = panel.frame.set_index([AREA, PERIOD])[target]
    last_year = pd.MultiIndex.from_arrays([areas[AREA], areas[TARGET_PERIOD] - panel.spec.frequency.periods_per_year])
    areas["last_year"] = actual.reindex(last_year).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        areas["change_vs_last_year"] = areas["forecast"] / areas["last_year"] - 1
    width = (areas["upper"] - areas["lower"]) / areas["forecast"].clip(lower=1)
    areas["low_confidence"] = width > experiment.report.wide_interval
    areas["unusual_change"] = areas["change_vs_last_year"].abs() > experiment.report.rise_alert
    first = panel.frame[PERIOD].max() - experiment.report.history_periods + 1
    history = panel.frame.loc[panel.frame[PERIOD] >= first, [AREA, PERIOD, target]].rename(columns={target: "actual"})
    made_at = datetime.now(UTC).isoformat(timespec="seconds")
    return ForecastResult(experiment, champion, panel, areas, history, made_at, totals=totals)


def _with_reconciled(drivers: pd.DataFrame, forecast: pd.DataFrame) -> pd.DataFrame:
    """The drivers table with each area's published forecast and bounds: after reconciliation, whose
    totals are the sums of exactly these forecasts."""
    values = forecast.set_index([AREA, HORIZON])[["forecast", "lower", "upper"]]
    key = pd.MultiIndex.from_frame(drivers[[AREA, HORIZON]])
    return drivers.assign(**{c: values[c].reindex(key).to_numpy() for c in values})


def _folder(name: str) -> Path:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    base = OUTPUTS / name
    folder, n = base / day, 2
    while folder.exists():
        folder, n = base / f"{day}-{n}", n + 1
    return folder


def run_forecast(experiment_path: Path, *, console: Console) -> Path:
    from workbench.report.publish import write_outputs
    from workbench.tracking.forecast_run import log_forecast

    experiment = load_experiment(experiment_path)
    with console.status("Loading the champion from the registry"):
        champion = load_champion(experiment)
    console.print(
        f"Champion: version {champion.version} of '{champion.name}' ({champion.candidate}), trained "
        f"{champion.trained_at} on {champion.trained_on}."
    )
    with console.status("Forecasting and explaining every area"):
        result = make_forecast(experiment, champion)
    result = _with_monitoring(result)  # ledger (issue 16)
    final = _folder(experiment.name)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".forecast-", dir=final.parent))
    staging.chmod(0o755)  # a published folder, readable like any other
    try:
        with console.status("Writing the report, model card and transparency record"):
            written = write_outputs(result, staging)
        entries = _ledger_entries(result, staging)  # ledger (issue 16)
        with console.status("Logging the forecast run to MLflow"):
            run_id = log_forecast(result, staging, entries=entries)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    console.print(
        f"Forecast for {result.areas[AREA].nunique()} areas, {', '.join(sorted({str(p) for p in result.areas['target_period']}))}; "
        f"MLflow run {run_id}."
    )
    for name in written:
        console.print(f"  {final / name}")
    return final


# --- forecast ledger (issue 16) -------------------------------------------------------------------


def _with_monitoring(result: ForecastResult) -> ForecastResult:
    """The ledger's latest scores and the champion's review flag, for the report and model card."""
    from dataclasses import replace

    from workbench.tracking.ledger import read_monitoring

    return replace(result, monitoring=read_monitoring(result.champion.name, result.champion.version))


def _ledger_entries(result: ForecastResult, staging: Path) -> pd.DataFrame:
    """The ledger rows of this forecast, with the disclosure status readers were shown."""
    from workbench.ledger import ledger_entries

    published = pd.read_csv(staging / "forecast.csv", dtype=str, keep_default_na=False)
    return ledger_entries(result, disclosure=published[[AREA, PERIOD, "suppressed"]])
