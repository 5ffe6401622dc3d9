"""The reviewer's MLflow and the data scientist's quick loop, end to end on a small experiment:
classic ML experiment kind, run names and metric columns, `workbench compare` against the
champion (printed and logged), `train --quick` that never registers, and refusals that name the
next command with the version number."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.conftest import TrainedStore
from tests.e2e.report_experiment import CONFIG

NAME = CONFIG["name"]


def _write(workdir: Path, *, quick: dict | None = None, **gate) -> Path:
    path = workdir / f"{NAME}.yaml"
    config = {**CONFIG, "name": NAME, "gate": {**CONFIG["gate"], **gate}} | ({"quick": quick} if quick else {})
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _parents(client: MlflowClient) -> list:
    experiment = client.get_experiment_by_name(NAME)
    runs = client.search_runs([experiment.experiment_id], filter_string="tags.winner != ''")
    return [r for r in runs if "mlflow.parentRunId" not in r.data.tags]


@pytest.mark.slow
def test_quick_runs_are_exploratory_and_never_registered(cli, workdir, store) -> None:
    experiment = _write(workdir, quick={"origins": 2, "models": []})  # the baselines and nothing else
    done = cli("train", experiment, "--quick")
    assert done.exit_code == 0, done.output
    flat = " ".join(done.output.split())
    assert "Exploratory run" in flat and "not audited, nothing was registered" in flat
    client = MlflowClient(store)
    assert client.search_model_versions(f"name='{NAME}'") == []
    (run,) = _parents(client)  # one run, no candidate runs and no model
    assert run.data.tags["workbench.exploratory"] == "true" and run.data.tags["verdict"] == "exploratory"
    assert run.info.run_name.startswith(f"{NAME} · ") and " · exploratory · " in run.info.run_name
    assert client.get_experiment_by_name(NAME).tags["mlflow.experimentKind"] == "custom_model_development"
    assert run.data.params["candidates"] == "naive,seasonal_naive" and run.data.params["backtest.origins"] == "2"
    assert {"mase", "wape", "bias", "coverage"} <= set(run.data.metrics)  # the winner's, as columns
    assert {a.path for a in client.list_artifacts(run.info.run_id)} == {"backtest", "experiment.yaml"}


@pytest.mark.slow
def test_a_quick_run_explains_its_winner_globally(cli, workdir, store) -> None:
    done = cli("train", _write(workdir, quick={"origins": 2}), "--quick")
    assert done.exit_code == 0, done.output
    (run,) = _parents(MlflowClient(store))
    assert run.data.tags["winner"] == "lightgbm_poisson_ratio"
    assert "The winner's drivers in its latest backtest fold" in " ".join(done.output.split())
    logged = MlflowClient(store).download_artifacts(
        run.info.run_id, "explanations/importance_concepts.csv", str(workdir)
    )
    shares = pd.read_csv(logged).set_index("concept")["mean_abs_amount"]
    assert len(shares) > 1 and (shares >= 0).all() and shares.iloc[0] == shares.max()


@pytest.mark.slow
def test_a_refused_version_is_compared_with_the_champion(
    cli, workdir, report_store: TrainedStore, tmp_path_factory, monkeypatch
) -> None:
    # version 1, the champion, as the session's report store holds it (this test changes a copy)
    store = report_store.copy_to(tmp_path_factory.mktemp("review") / "store").use(monkeypatch)
    client = MlflowClient(store)
    assert str(client.get_model_version_by_alias(NAME, "champion").version) == "1"
    second = cli("train", _write(workdir, baseline_margin=0.9))  # no model beats the baselines by 90%
    assert second.exit_code == 0 and "Not promoted: version 2" in second.output, second.output
    assert f"make compare-champion EXP={workdir / NAME}.yaml VERSION=2" in second.output.replace("\n", "")
    names = {r.info.run_name: r for r in _parents(client)}
    refused = next(r for n, r in names.items() if " · fail · v2 · " in n)
    assert any(" · pass · v1 · " in n for n in names)
    assert refused.data.metrics["gate_passed"] == 0.0 and refused.data.tags["verdict"] == "fail"
    assert {"mase", "wape", "bias", "coverage", "mase_vs_champion"} <= set(refused.data.metrics)

    compared = cli("compare", workdir / f"{NAME}.yaml")
    assert compared.exit_code == 0, compared.output
    for text in ("version 2 against the champion (version 1)", "not promoted", "baseline", "MASE", "Drivers"):
        assert text in compared.output, text
    artifacts = {a.path for a in client.list_artifacts(refused.info.run_id, "review")}
    assert artifacts == {"review/compare_champion.md"}
    logged = client.download_artifacts(refused.info.run_id, "review/compare_champion.md", str(workdir))
    assert "## Key metrics (backtest)" in Path(logged).read_text()

    promoted = cli("promote", workdir / f"{NAME}.yaml", "--version", "2")
    assert promoted.exit_code == 3, promoted.output
    flat = " ".join(promoted.output.split())
    assert f"make compare-champion EXP={workdir / NAME}.yaml VERSION=2" in flat
    assert f"make promote EXP={workdir / NAME}.yaml VERSION=2" in flat
