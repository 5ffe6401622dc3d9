"""The gate end to end: a biased candidate is refused, a fair one becomes champion and a worse one
does not displace it, approvals are recorded, and `promote` refuses what the gate refuses."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import mlflow
import numpy as np
import pytest
import yaml
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

import models
from models.gbm import LightGBM
from workbench.data.contract import AREA, AREA_NAME, PERIOD
from workbench.data.synthetic.england import generate_england

BASE = {
    "target": "owed_duty",
    "frequency": "quarter",
    "horizon": 1,
    "seed": 3,
    "data": {"synthetic": {"seed": 11, "start": "2018Q2", "end": "2023Q2"}},
    "features": [
        {"builder": "lag", "lags": [1, 2, 4]},
        {"builder": "rolling", "windows": [4]},
        {"builder": "seasonal"},
        {"builder": "covariate", "column": "possession_claims_rate", "transform": "log", "relative": True},
        {"builder": "static", "columns": ["deprivation_score", "region"]},
    ],
    "backtest": {"origins": 3, "min_train_periods": 8, "min_calibration_folds": 1},
    "audit": {"groupings": ["region", "urban_rural"], "intersections": False, "bootstrap": 100},
    "gate": {"require_clean_tree": False},
    "explain": {"dependence_plots": 1},
}
GOOD = {"model": "lightgbm", "transform": "ratio", "n_estimators": 60}
LONDON_FACTOR = 0.8


class _UnderForecastLondon:
    def __init__(self, inner):
        self.inner = inner

    def fit(self, rows, y):
        self.inner.fit(rows, y)
        return self

    def predict(self, rows):
        return self.inner.predict(rows) * np.where(rows["region"].astype(str) == "London", LONDON_FACTOR, 1.0)


class BiasedLightGBM(LightGBM):
    """A planted bias: accurate elsewhere, 20% under the truth in every London borough."""

    model: ClassVar[str] = "biased_lightgbm"
    explainer: ClassVar = "model_agnostic"

    def default_name(self) -> str:
        return "biased_lightgbm"

    def make(self, *, features, seed):
        return _UnderForecastLondon(super().make(features=features, seed=seed))


# The biased candidate is explained as a black box (permutation SHAP, one forecast row at a time), so
# its train runs on four regions of the same synthetic England (110 of 296 areas), London among them.
REGIONS = ["London", "North West", "West Midlands", "North East"]
FILE_COLUMNS = {
    "area": AREA,
    "period": PERIOD,
    "area_name": AREA_NAME,
    "targets": {"owed_duty": "owed_duty"},
    "covariates": {"possession_claims_rate": {"column": "possession_claims_rate", "publication_lag": 1, "count": True}},
    "static": ["region", "urban_rural", "deprivation_score"],
    "groups": ["region", "urban_rural"],
}


def regional_panel(workdir: Path, regions: list[str]) -> dict:
    """The experiment's synthetic England cut to `regions`, written as a file; the data section reading it."""
    synthetic = BASE["data"]["synthetic"]
    frame = generate_england(seed=synthetic["seed"], start=synthetic["start"], end=synthetic["end"])
    frame = frame[frame["region"].isin(regions)]
    path = workdir / "regions.csv"
    frame.assign(**{PERIOD: frame[PERIOD].astype(str)}).to_csv(path, index=False)
    return {"file": {"path": str(path), "frequency": "quarter", "columns": FILE_COLUMNS}}


def experiment(workdir: Path, name: str, candidates: list[dict], **changes) -> Path:
    config = {"name": name, **BASE, "models": [{"model": "naive"}, {"model": "seasonal_naive"}, *candidates], **changes}
    path = workdir / f"{name}_{len(list(workdir.glob('*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def alias(client: MlflowClient, name: str, which: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, which).version)
    except MlflowException:
        return None


@pytest.mark.slow
def test_a_candidate_biased_against_one_group_is_refused(cli, workdir, store, monkeypatch) -> None:
    monkeypatch.setitem(models.MODELS, "biased_lightgbm", BiasedLightGBM)
    path = experiment(
        workdir,
        "biased",
        [{"model": "biased_lightgbm", "transform": "ratio", "n_estimators": 60}],
        # explained as a black box; the fewest evaluations per row keep that cheap, and the audit is under test
        explain={"max_rows_per_fold": 20, "max_evals": 10, "dependence_plots": 1, "reference_periods": 1},
        # the bias guard of selection would rule this model out; here the audit is what must refuse it
        selection={"bias_tolerance": 1.0},
        data=regional_panel(workdir, REGIONS),
    )
    result = cli("train", path)
    assert result.exit_code == 0, result.output
    assert "biased_lightgbm wins" in result.output
    assert "Not promoted: version 1 of 'biased' is the challenger" in result.output
    assert "- fairness_audit: " in result.output
    assert "bias for region=London" in result.output

    client = MlflowClient(store)
    assert alias(client, "biased", "champion") is None
    assert alias(client, "biased", "challenger") == "1"
    tags = client.get_model_version("biased", "1").tags
    assert tags["gate.verdict"] == "fail" and tags["gate.fairness_audit"] == "fail"
    assert tags["gate.beats_baselines"] == "pass" and "region=London" in tags["gate.reasons"]
    parent = next(
        r
        for r in client.search_runs([client.get_experiment_by_name("biased").experiment_id])
        if "mlflow.parentRunId" not in r.data.tags
    )
    assert parent.data.tags["gate.verdict"] == "fail" and parent.data.tags["alias"] == "challenger"
    assert "**Decision: not promoted.**" in parent.data.tags["mlflow.note.content"]
    assert parent.data.metrics["fairness.bias.region.worst"] > 0.01
    report = mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/audit/audit_report.md")
    assert "**Verdict:** FAIL" in report and "region=London" in report

    refused = cli("promote", path, "--version", "1")
    assert refused.exit_code == 3
    assert "version 1 of 'biased' was not promoted" in refused.output and "region=London" in refused.output
    assert alias(client, "biased", "champion") is None


@pytest.mark.slow
def test_a_fair_accurate_candidate_becomes_champion_and_a_worse_one_does_not_displace_it(cli, workdir, store) -> None:
    first = cli("train", experiment(workdir, "fair", [GOOD]))
    assert first.exit_code == 0, first.output
    assert "Promoted: version 1 of 'fair' is now the champion." in first.output
    client = MlflowClient(store)
    assert alias(client, "fair", "champion") == "1"
    tags = client.get_model_version("fair", "1").tags
    assert tags["gate.verdict"] == "pass" and tags["gate.clean_tree"] in {"pass", "noted"}
    assert len(tags["git.commit"]) == 40 and len(tags["config.hash"]) == 16 and len(tags["data.digest"]) == 16

    worse = {"model": "poisson_glm"}  # beats the baselines, but is about 4% worse than the champion
    second = cli("train", experiment(workdir, "fair", [worse]))
    assert second.exit_code == 0, second.output
    assert "not_worse_than_champion: MASE" in second.output
    assert alias(client, "fair", "champion") == "1"
    assert alias(client, "fair", "challenger") == "2"
    refused = cli("promote", experiment(workdir, "fair", [worse]), "--version", "2")
    assert refused.exit_code == 3 and "not_worse_than_champion" in refused.output
    assert alias(client, "fair", "champion") == "1"


@pytest.mark.slow
def test_an_experiment_can_require_approval_before_the_alias_moves(cli, workdir, store) -> None:
    path = experiment(workdir, "approved", [GOOD], gate={"require_clean_tree": False, "require_approval": True})
    trained = cli("train", path)
    assert trained.exit_code == 0, trained.output
    assert "approval: awaiting approval" in trained.output
    client = MlflowClient(store)
    assert alias(client, "approved", "champion") is None

    early = cli("promote", path, "--version", "1")
    assert early.exit_code == 3 and "awaiting approval" in early.output
    assert cli("approve", path, "--version", "1", "--by", "", "--note", "x").exit_code == 2
    approved = cli(
        "approve",
        path,
        "--version",
        "1",
        "--by",
        "Head of Housing Analytics",
        "--note",
        "Backtest and audit reviewed with the policy team",
    )
    assert approved.exit_code == 0, approved.output
    promoted = cli("promote", path, "--version", "1")
    assert promoted.exit_code == 0, promoted.output
    assert alias(client, "approved", "champion") == "1"
    assert alias(client, "approved", "challenger") is None
    tags = client.get_model_version("approved", "1").tags
    assert tags["approval.by"] == "Head of Housing Analytics" and tags["gate.approval"] == "pass"
    status = cli("status", path)
    assert "champion" in status.output and "lightgbm_poisson_ratio" in status.output


def test_promote_names_the_versions_that_exist(cli, workdir, store) -> None:
    path = experiment(workdir, "nothing_yet", [GOOD])
    result = cli("promote", path, "--version", "4")
    assert result.exit_code == 2
    assert "version 4 of registered model 'nothing_yet' does not exist" in result.output
