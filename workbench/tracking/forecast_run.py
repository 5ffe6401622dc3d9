"""Logging a forecast as its own MLflow run, linked to the model version it used."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
from mlflow.entities import LoggedModelInput

from workbench.data.contract import AREA
from workbench.forecast_record import ForecastResult
from workbench.interrupt import failpoint
from workbench.tracking.dataset import log_dataset, panel_dataset
from workbench.tracking.ledger import log_entries
from workbench.tracking.quiet import quiet
from workbench.tracking.registry import client as registry_client
from workbench.tracking.runs import experiment_id
from workbench.tracking.store import git_state


def log_forecast(result: ForecastResult, folder: Path, *, entries: pd.DataFrame | None = None) -> str:
    champion = result.champion
    commit, dirty = git_state()
    with (
        quiet(),
        mlflow.start_run(
            experiment_id=experiment_id(registry_client(), champion.name),
            run_name=f"forecast {result.made_at[:10]}",
            tags={
                "workbench.run_type": "forecast",
                "model.name": champion.name,
                "model.version": champion.version,
                "model.uri": champion.model_uri,
                "model.run_id": champion.run_id,
                "model.candidate": champion.candidate,
                "data.digest": result.panel.digest(),
                "data.source": result.panel.source,
                "git.commit": commit,
                "git.dirty": str(dirty).lower(),
                "mlflow.note.content": (
                    f"Forecast by version {champion.version} of `{champion.name}` "
                    f"({champion.candidate}) for {result.areas['area_code'].nunique()} areas. Outputs: "
                    "report.html, forecast.csv, model_card.md, transparency_record.*"
                ),
            },
        ) as run,
    ):
        log_dataset(panel_dataset(result.panel, name=f"panel:{champion.name}"), context="forecast")
        if champion.model_id:
            mlflow.log_input(model=LoggedModelInput(champion.model_id))
        mlflow.log_metrics(
            {
                "areas": float(result.areas[AREA].nunique()),
                "forecast_total": float(result.areas["forecast"].sum()),
            }
        )
        if entries is not None:  # the forecast ledger (issue 16): part of the run, never a later edit
            log_entries(entries)
        failpoint("forecast_run")
        mlflow.log_artifacts(str(folder), artifact_path="forecast")
    return str(run.info.run_id)
