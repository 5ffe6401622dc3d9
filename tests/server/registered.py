"""Registered versions for the team-server tests: made as the data scientist, under unique names."""

from __future__ import annotations

import uuid

from mlflow.tracking import MlflowClient


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def registered(team_server, monkeypatch, versions: int = 2) -> tuple[str, list[str]]:
    """As dana: one run with a metric and an artifact, registered `versions` times under a new model name."""
    team_server.as_user(monkeypatch, "dana")
    client = MlflowClient(team_server.url)
    experiment = client.create_experiment(unique("roles"))
    run = client.create_run(experiment)
    client.log_param(run.info.run_id, "model", "naive")
    client.log_metric(run.info.run_id, "mae", 1.5)
    client.log_text(run.info.run_id, "weights", "model/weights.txt")
    client.set_terminated(run.info.run_id)
    name = unique("owed-duty")
    client.create_registered_model(name)
    numbers = [
        client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id).version
        for _ in range(versions)
    ]
    return name, [str(n) for n in numbers]
