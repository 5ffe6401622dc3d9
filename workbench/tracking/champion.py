"""Loading the champion: the registered version behind the `champion` alias, the configuration it
was trained with, its logged model, and the evidence recorded about it."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PyFuncModel

from models.base import Forecaster
from workbench.config import Experiment, parse_experiment
from workbench.errors import WorkbenchError
from workbench.reconcile import Reconciliation
from workbench.tracking.pyfunc import ForecastModel
from workbench.tracking.quiet import quiet
from workbench.tracking.registry import CHAMPION, verified_report
from workbench.tracking.registry import client as registry_client
from workbench.tracking.runs import RECONCILIATION
from workbench.tracking.store import tracking_uri


@dataclass(frozen=True)
class ChampionModel:
    name: str
    version: str
    model_uri: str
    model_id: str | None
    run_id: str  # the candidate's child run
    parent_run_id: str  # the training run with the audit and gate reports
    candidate: str
    trained: Experiment  # the configuration it was trained with, as logged
    model: PyFuncModel = field(repr=False)  # the MLflow pyfunc model
    metrics: dict[str, float] = field(default_factory=dict)
    audit_groups: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    gate: dict[str, Any] = field(default_factory=dict)  # the verified gate report
    trained_on: str = ""  # data source and last period, from the training run
    trained_at: str = ""
    contract: dict[str, str] = field(default_factory=dict)
    reconciliation: Reconciliation | None = None  # chosen by its backtest; None when no hierarchy was declared

    @property
    def forecaster(self) -> Forecaster:
        """The fitted forecaster inside the logged model (for explanations)."""
        wrapped: ForecastModel = self.model.unwrap_python_model()
        return wrapped.forecaster

    @property
    def input_columns(self) -> list[str]:
        return [str(name) for name in self.model.metadata.get_input_schema().input_names()]

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """forecast, lower and upper for each row of model input."""
        return self.model.predict(frame)


def load_champion(experiment: Experiment) -> ChampionModel:
    mlflow.set_tracking_uri(tracking_uri())
    client = registry_client()
    name = experiment.name
    try:
        version = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        raise WorkbenchError(
            f"there is no champion for '{name}' in {tracking_uri()}: run `make train EXP={experiment.path}` and, if "
            f"the gate refused the winner, fix what it names and train again (or `make promote` an approved "
            f"version)"
        ) from None
    tags = version.tags
    parent = tags["gate.report_run_id"]
    gate = verified_report(client, name, str(version.version))
    with quiet():
        trained = parse_experiment(
            mlflow.artifacts.load_text(f"runs:/{parent}/experiment.yaml"),
            source=Path(f"runs:/{parent}/experiment.yaml"),
        )
        groups = pd.read_csv(io.StringIO(mlflow.artifacts.load_text(f"runs:/{parent}/audit/audit_groups.csv")))
        model = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}")
        reconciliation = _reconciliation(parent) if trained.hierarchy is not None else None
    run = client.get_run(tags["run_id"])
    parent_run = client.get_run(parent)
    if "backtest.interval_calibration_origins" not in parent_run.data.params:
        # trained before intervals were calibrated on the latest origins only: on every earlier one
        backtest = trained.backtest.model_copy(update={"interval_calibration_origins": None})
        trained = trained.model_copy(update={"backtest": backtest})
    return ChampionModel(
        name=name,
        version=str(version.version),
        model_uri=f"models:/{name}/{version.version}",
        model_id=getattr(version, "model_id", None),
        run_id=tags["run_id"],
        parent_run_id=parent,
        candidate=tags["candidate"],
        trained=trained,
        model=model,
        metrics=dict(run.data.metrics),
        audit_groups=groups[groups["candidate"] == tags["candidate"]],
        gate=gate,
        trained_on=f"{parent_run.data.params.get('data_source', '')}, up to {parent_run.data.params.get('last_period', '')}",
        trained_at=pd.Timestamp(parent_run.info.start_time, unit="ms").strftime("%Y-%m-%d"),
        contract={k.removeprefix("contract."): v for k, v in tags.items() if k.startswith("contract.")},
        reconciliation=reconciliation,
    )


def _reconciliation(parent: str) -> Reconciliation:
    return Reconciliation.from_json(mlflow.artifacts.load_text(f"runs:/{parent}/{RECONCILIATION}"))
