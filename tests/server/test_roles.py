"""The team server's roles against a real MLflow server on PostgreSQL: who may train, register, and move
`champion`, what a refusal says, and that concurrent clients lose no runs."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from tests.server.racing import race
from tests.server.registered import registered, unique
from workbench.errors import WorkbenchError
from workbench.tracking.server import current_user, permission_message
from workbench.tracking.server_app import APPROVAL_REFUSAL, REFUSAL


def test_a_data_scientist_creates_a_run_and_registers_versions(team_server, monkeypatch):
    name, numbers = registered(team_server, monkeypatch)

    client = MlflowClient(team_server.url)
    assert numbers == ["1", "2"]
    version = client.get_model_version(name, "1")
    assert client.get_run(version.run_id).data.metrics == {"mae": 1.5}
    local = mlflow.artifacts.download_artifacts(
        run_id=version.run_id, artifact_path="model/weights.txt", tracking_uri=team_server.url
    )
    assert Path(local).read_text() == "weights"
    client.set_model_version_tag(name, "1", "gate.verdict", "pass")
    assert client.get_model_version(name, "1").tags["gate.verdict"] == "pass"


def test_a_data_scientist_cannot_move_champion(team_server, monkeypatch):
    name, _ = registered(team_server, monkeypatch)

    with pytest.raises(MlflowException) as refused:
        MlflowClient(team_server.url).set_registered_model_alias(name, "champion", "1")

    assert refused.value.get_http_status_code() == 403
    assert REFUSAL in str(refused.value)
    assert MlflowClient(team_server.url).get_registered_model(name).aliases == {}


def test_a_data_scientist_cannot_forge_an_approval(team_server, monkeypatch):
    name, _ = registered(team_server, monkeypatch)
    client = MlflowClient(team_server.url)

    for write in (
        lambda: client.set_model_version_tag(name, "1", "approval.by", "alex"),
        lambda: client.set_registered_model_tag(name, "approval.1.by", "alex"),
    ):
        with pytest.raises(MlflowException) as refused:
            write()
        assert APPROVAL_REFUSAL in str(refused.value)
    client.set_model_version_tag(name, "1", "gate.verdict", "pass")

    assert "approval.by" not in client.get_model_version(name, "1").tags
    assert "approval.1.by" not in client.get_registered_model(name).tags
    team_server.as_user(monkeypatch, "alex")
    MlflowClient(team_server.url).set_model_version_tag(name, "1", "approval.by", "alex")
    assert MlflowClient(team_server.url).get_model_version(name, "1").tags["approval.by"] == "alex"


def test_a_reviewer_reads_but_a_promotion_is_refused_and_changes_nothing(team_server, monkeypatch):
    name, _ = registered(team_server, monkeypatch)
    team_server.as_user(monkeypatch, "alex")
    MlflowClient(team_server.url).set_registered_model_alias(name, "champion", "1")

    team_server.as_user(monkeypatch, "rita")
    client = MlflowClient(team_server.url)
    assert client.get_model_version(name, "2").run_id
    with pytest.raises(MlflowException) as refused:
        client.set_registered_model_alias(name, "champion", "2")
    with pytest.raises(MlflowException):
        client.set_model_version_tag(name, "2", "approval.by", "rita")

    assert refused.value.get_http_status_code() == 403
    assert client.get_registered_model(name).aliases == {"champion": "1"}
    assert "approval.by" not in client.get_model_version(name, "2").tags
    assert permission_message(refused.value, action="promote") == (
        f"the server at {team_server.url} refused to let 'rita' promote: that needs the approver role. "
        "Ask an admin to run `workbench users add rita --role approver`, or sign in as someone who has it."
    )


def test_an_approver_moves_champion(team_server, monkeypatch):
    name, _ = registered(team_server, monkeypatch)
    team_server.as_user(monkeypatch, "alex")
    client = MlflowClient(team_server.url)

    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "champion", "2")

    assert client.get_model_version_by_alias(name, "champion").version == "2"


def test_current_user_is_the_account_the_server_checked(team_server, monkeypatch):
    team_server.as_user(monkeypatch, "alex")
    assert current_user() == "alex"

    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "not-alex-password")
    with pytest.raises(WorkbenchError, match="did not accept your credentials"):
        current_user()


def test_current_user_is_none_for_the_local_store(store):
    assert current_user() is None


def test_four_concurrent_clients_lose_no_runs(team_server, monkeypatch):
    """Four processes, each a data scientist logging runs and registering a version at the same time."""
    experiment_name, model = unique("concurrent"), unique("concurrent-model")
    team_server.as_user(monkeypatch, "dana")
    client = MlflowClient(team_server.url)
    experiment = client.create_experiment(experiment_name)
    client.create_registered_model(model)
    results = race(
        "log-runs", {"url": team_server.url, "experiment": experiment, "model": model}, [str(w) for w in range(4)]
    )
    failures = [output for status, output in results if status != 0]

    assert failures == []
    runs = client.search_runs([experiment], max_results=100)
    assert len(runs) == 20
    assert sorted(r.data.tags["worker"] for r in runs) == sorted(str(w) for w in range(4) for _ in range(5))
    assert all(r.info.status == "FINISHED" for r in runs)
    assert sorted(int(v.version) for v in client.search_model_versions(f"name='{model}'")) == [1, 2, 3, 4]
