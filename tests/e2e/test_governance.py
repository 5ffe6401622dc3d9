"""Governance that holds: the gate cannot be forged, raced or left half-done.

Commands whose signals, locks or concurrency are under test run each in a process of its own, against
the test's own store, so those are real: forked from one that imported the command once (`commands`,
tests/command_server.py), or, for the worker pool's shutdown, as the installed `workbench`. The forgery
and identity checks, which need no second process, run the same commands in this one. The trained store that several tests start from
(version 1 the champion) is made once, in this process, and each of them works on a copy.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from tests.command_server import CommandServer
from tests.conftest import TrainedStore, train_in_process

WORKBENCH = Path(sys.executable).parent / "workbench"
SMALL = {
    "target": "owed_duty",
    "frequency": "quarter",
    "horizon": 1,
    "seed": 3,
    "data": {"synthetic": {"seed": 11, "start": "2018Q2", "end": "2022Q2"}},
    "features": [{"builder": "lag", "lags": [1, 2, 4]}, {"builder": "rolling", "windows": [4]}],
    "models": [{"model": "naive"}, {"model": "lightgbm", "transform": "ratio", "n_estimators": 30}],
    "backtest": {"origins": 3, "min_train_periods": 8, "min_calibration_folds": 1},
    "audit": {"groupings": ["region"], "bootstrap": 100},
    "explain": {"dependence_plots": 0, "max_rows_per_fold": 50},
    "gate": {"require_clean_tree": False, "champion_tolerance": 0.5},
}
pytestmark = pytest.mark.slow


def write(folder: Path, name: str = "governed", **changes) -> Path:
    path = folder / f"{name}-{len(list(folder.glob('*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump({"name": name, **SMALL, **changes}, sort_keys=False))
    return path


def workbench(commands: CommandServer, *args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return commands.run(args, cwd=cwd, env={**os.environ, "WORKBENCH_JOBS": "1", **(env or {})})[0]


def all_runs(client: MlflowClient) -> list:
    experiments = client.search_experiments()
    return client.search_runs([e.experiment_id for e in experiments]) if experiments else []


def versions(client: MlflowClient, name: str) -> list:
    try:
        return sorted(client.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version))
    except MlflowException:
        return []


def alias(client: MlflowClient, name: str, which: str = "champion") -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, which).version)
    except MlflowException:
        return None


def assert_consistent(client: MlflowClient, name: str) -> None:
    """No run left RUNNING, and every version complete: tagged with its decision and its contract."""
    assert [r.info.run_id for r in all_runs(client) if r.info.status == "RUNNING"] == []
    for v in versions(client, name):
        assert v.tags.get("gate.verdict") in {"pass", "fail"}, v.tags
        assert v.tags.get("contract.target"), v.tags


@pytest.fixture
def client(store) -> MlflowClient:
    return MlflowClient(store)


@pytest.fixture(scope="module")
def governed_store(tmp_path_factory: pytest.TempPathFactory, _empty_tracking_db: Path) -> TrainedStore:
    """`governed` trained once: version 1, the champion. Only ever copied."""
    folder = tmp_path_factory.mktemp("governed-store")
    return train_in_process(folder, write(folder), "train", empty_db=_empty_tracking_db)


@pytest.fixture
def trained(governed_store: TrainedStore, tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> MlflowClient:
    """This test's own copy of the trained store, where its commands run; a client on it."""
    copy = governed_store.copy_to(tmp_path_factory.mktemp("governed") / "store")
    return MlflowClient(copy.use(monkeypatch))


# Forgery -------------------------------------------------------------------------------------------


def _report_path(client: MlflowClient, name: str, version: str) -> Path:
    run_id = client.get_model_version(name, version).tags["gate.report_run_id"]
    root = Path(unquote(urlparse(client.get_run(run_id).info.artifact_uri).path))
    return root / "gate" / "gate_report.json"


def test_an_edited_gate_report_cannot_promote_a_refused_version(client, cli, workdir, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_JOBS", "1")
    path = write(workdir, gate={**SMALL["gate"], "require_approval": True})
    trained = cli("train", path)
    assert trained.exit_code == 0, trained.output
    assert alias(client, "governed") is None and alias(client, "governed", "challenger") == "1"

    report_file = _report_path(client, "governed", "1")
    report = json.loads(report_file.read_text())
    report["settings"]["require_approval"] = False  # the forger turns off what refused it
    report["verdict"] = "pass"
    report_file.write_text(json.dumps(report))
    forged = cli("promote", path, "--version", "1")
    assert forged.exit_code == 3, forged.output
    assert "does not match the digest recorded in run parameter gate.evidence_sha256" in forged.stderr
    assert alias(client, "governed") is None

    # the honest path still works: restore the report, approve, promote
    report["settings"]["require_approval"] = True
    report["verdict"] = "fail"
    report_file.write_text(json.dumps(report))
    assert cli("approve", path, "--version", "1", "--by", "Lead", "--note", "ok").exit_code == 0
    promoted = cli("promote", path, "--version", "1")
    assert promoted.exit_code == 0, promoted.output
    assert alias(client, "governed") == "1"


# Identity ------------------------------------------------------------------------------------------


def test_one_registered_model_holds_one_contract(trained, cli, workdir, monkeypatch) -> None:
    client = trained
    monkeypatch.setenv("WORKBENCH_JOBS", "1")
    assert alias(client, "governed") == "1"
    before = (len(all_runs(client)), len(versions(client, "governed")), alias(client, "governed"))
    other = cli("train", write(workdir, target="households_in_ta"))
    assert other.exit_code == 2, other.output
    assert (
        "registered model 'governed' has another contract (target is 'owed_duty' there but 'households_in_ta' here)"
        in other.stderr
    )
    assert "give this experiment its own name" in other.stderr
    assert (len(all_runs(client)), len(versions(client, "governed")), alias(client, "governed")) == before


def test_forecast_refuses_a_champion_with_another_contract(trained, cli, workdir) -> None:
    client = trained
    path = write(workdir)
    client.set_model_version_tag("governed", alias(client, "governed"), "contract.target", "households_in_ta")
    refused = cli("forecast", path)
    assert refused.exit_code == 2, refused.output
    assert "has another contract (target is 'households_in_ta' for the champion but 'owed_duty' here)" in refused.stderr
    assert not (workdir / "outputs").exists() or not any((workdir / "outputs").rglob("*.csv"))


# Races ---------------------------------------------------------------------------------------------


# Three racing processes on two cores: always one more than can run at once, so the lock is contended
# at every stage; a fourth adds a train's CPU and no interleaving that three cannot reach.
@pytest.mark.parametrize("trains", [3])
def test_simultaneous_trains_end_with_one_champion_judged_in_lock_order(client, workdir, trains, commands) -> None:
    paths = [write(workdir, seed=s) for s in range(trains)]
    done = commands.run(*[["train", p] for p in paths], cwd=workdir, env={**os.environ, "WORKBENCH_JOBS": "1"})
    outputs = [(d.stdout, d.stderr) for d in done]
    for process, (out, err) in zip(done, outputs, strict=True):
        assert process.returncode == 0, out + err
        assert "database is locked" not in out + err
    parents = [r for r in all_runs(client) if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == trains and all(r.info.status == "FINISHED" for r in parents)
    assert_consistent(client, "governed")
    registered = versions(client, "governed")
    assert len(registered) == trains
    champion = None  # replay the decisions in the order the lock granted them (version order)
    for v in registered:
        assert v.tags["gate.champion_at_decision"] == (champion or "none")
        if v.tags["gate.verdict"] == "pass":
            champion = str(v.version)
    assert alias(client, "governed") == champion
    promoted = [line for out, _ in outputs for line in out.splitlines() if line.startswith("Promoted:")]
    assert len(promoted) == sum(v.tags["gate.verdict"] == "pass" for v in registered)


# Interruption --------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["backtest_task", "explain_task"])
def test_sigterm_while_computing_leaves_no_run_and_no_version(client, workdir, stage, commands) -> None:
    stopped = workbench(commands, "train", write(workdir), cwd=workdir, env={"WORKBENCH_FAILPOINT": stage})
    assert stopped.returncode == 143, stopped.stdout + stopped.stderr
    assert "stopped: stopped by SIGTERM" in stopped.stderr
    assert all_runs(client) == [] and versions(client, "governed") == []


def test_sigterm_during_registration_completes_it_and_then_stops(trained, workdir, commands) -> None:
    client = trained
    path = write(workdir)
    assert alias(client, "governed") == "1"
    stopped = workbench(commands, "train", path, cwd=workdir, env={"WORKBENCH_FAILPOINT": "registration"})
    assert stopped.returncode == 143, stopped.stdout + stopped.stderr
    assert_consistent(client, "governed")
    second = versions(client, "governed")[-1]
    assert str(second.version) == "2" and second.tags["gate.champion_at_decision"] == "1"
    assert alias(client, "governed") == ("2" if second.tags["gate.verdict"] == "pass" else "1")
    parents = [r for r in all_runs(client) if "mlflow.parentRunId" not in r.data.tags]
    assert all(r.data.tags.get("gate.verdict") for r in parents)


def test_sigterm_during_a_forecast_leaves_no_folder_and_no_running_run(trained, workdir, commands) -> None:
    client = trained
    path = write(workdir)
    assert alias(client, "governed") == "1"
    stopped = workbench(commands, "forecast", path, cwd=workdir, env={"WORKBENCH_FAILPOINT": "forecast_run"})
    assert stopped.returncode == 143, stopped.stdout + stopped.stderr
    assert_consistent(client, "governed")
    folder = workdir / "outputs" / "forecasts" / "governed"
    assert not folder.exists() or list(folder.iterdir()) == []
    forecast_runs = [r for r in all_runs(client) if r.data.tags.get("workbench.run_type") == "forecast"]
    assert forecast_runs and all(r.info.status in {"FAILED", "KILLED"} for r in forecast_runs)


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_sigterm_stops_the_worker_processes_too(client, workdir) -> None:
    path = write(workdir, models=[{"model": "naive"}, {"model": "lightgbm", "n_estimators": 400}])
    process = subprocess.Popen(
        [str(WORKBENCH), "train", str(path)],
        cwd=workdir,
        env={**os.environ, "WORKBENCH_JOBS": "2"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so a command that hangs is killed with its workers
    )
    deadline = time.monotonic() + 120
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        workers |= _children(process.pid)
        time.sleep(0.2)
    assert len(workers) >= 2, "the worker pool never started"
    time.sleep(2)
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # no hung command or worker outlives the test
        process.communicate()
        pytest.fail("the command did not stop within 60 s of SIGTERM")
    assert process.returncode == 143, err
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.2)
    assert [p for p in workers if _alive(p)] == []
    assert [r for r in all_runs(client) if r.info.status == "RUNNING"] == []
