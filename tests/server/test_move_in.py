"""Moving in: a local SQLite store's runs and registered models copied to the team server, twice."""

from __future__ import annotations

import uuid
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

from workbench.tracking.move_in import MOVED_FROM, move_in


class _Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input * 2


def _local_store(uri: str, experiment_name: str, model_name: str) -> dict[str, str]:
    """A parent run with a child, metric histories and artifacts, and a pyfunc model registered twice."""
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment_name)
    with mlflow.start_run(run_name="train") as parent:
        mlflow.log_params({"target": "owed_duty", "horizon": "1"})
        for step, value in enumerate([3.0, 2.0, 1.5]):
            mlflow.log_metric("mae", value, step=step)
        mlflow.log_text("area,forecast\nE06000001,12\n", "backtest/comparison.csv")
        with mlflow.start_run(run_name="gbm", nested=True) as child:
            mlflow.log_metric("mae", 1.5)
            info = mlflow.pyfunc.log_model(name="model", python_model=_Doubler(), pip_requirements=["mlflow"])
    client = MlflowClient(uri)
    for _ in range(2):
        version = mlflow.register_model(info.model_uri, model_name).version
        client.set_model_version_tag(model_name, version, "gate.verdict", "pass")
    client.set_registered_model_alias(model_name, "champion", "2")
    return {"parent": parent.info.run_id, "child": child.info.run_id}


def test_local_runs_and_models_move_to_the_server_and_a_second_move_copies_nothing(
    team_server, store, workdir, monkeypatch
):
    experiment_name, model_name = f"move-in-{uuid.uuid4().hex[:8]}", f"moved-{uuid.uuid4().hex[:8]}"
    local = _local_store(store, experiment_name, model_name)

    team_server.as_user(monkeypatch, "admin")  # as `workbench move-in` runs: MLFLOW_TRACKING_URI names the server
    first = move_in(MlflowClient(store), MlflowClient(team_server.url), say=lambda _: None)
    MlflowClient(team_server.url).set_registered_model_alias(model_name, "champion", "1")  # the team moved on
    second = move_in(MlflowClient(store), MlflowClient(team_server.url), say=lambda _: None)

    assert (first.runs_copied, first.versions_copied) == (2, 2)
    assert (second.runs_copied, second.runs_skipped, second.versions_copied, second.versions_skipped) == (0, 2, 0, 2)
    team_server.as_user(monkeypatch, "rita")
    mlflow.set_tracking_uri(team_server.url)
    server = MlflowClient(team_server.url)
    runs = {
        r.data.tags[MOVED_FROM]: r
        for r in server.search_runs([server.get_experiment_by_name(experiment_name).experiment_id])
    }
    assert set(runs) == set(local.values())
    parent, child = runs[local["parent"]], runs[local["child"]]
    assert parent.data.params == {"target": "owed_duty", "horizon": "1"}
    assert [m.value for m in server.get_metric_history(parent.info.run_id, "mae")] == [3.0, 2.0, 1.5]
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    comparison = mlflow.artifacts.download_artifacts(run_id=parent.info.run_id, artifact_path="backtest/comparison.csv")
    assert Path(comparison).read_text() == "area,forecast\nE06000001,12\n"
    assert first.aliases == [f"{model_name}@champion=2"]
    assert second.aliases == [f"{model_name}@champion kept at 1 (local: 2)"]
    assert server.get_registered_model(model_name).aliases == {"champion": "1"}
    version = server.get_model_version(model_name, "2")
    assert (version.tags["gate.verdict"], version.run_id) == ("pass", child.info.run_id)
    model = mlflow.pyfunc.load_model(f"models:/{model_name}/2")
    assert model.predict(pd.DataFrame({"x": [1.0, 4.0]}))["x"].tolist() == [2.0, 8.0]
