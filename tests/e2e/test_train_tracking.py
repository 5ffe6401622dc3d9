"""`workbench train` end to end into a temporary MLflow store: the runs, metrics, tags and artifacts
a reviewer relies on are all there, and a refused input leaves the store untouched."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

SMALL = {
    "name": "small_train",
    "description": "A small end-to-end run.",
    "target": "owed_duty",
    "frequency": "quarter",
    "horizon": 2,
    "seed": 7,
    "data": {"synthetic": {"seed": 11, "start": "2018Q2", "end": "2022Q4"}},
    "features": [
        {"builder": "lag", "lags": [1, 2, 4]},
        {"builder": "seasonal"},
        {"builder": "covariate", "column": "possession_claims_rate", "transform": "log", "relative": True},
        {"builder": "static", "columns": ["deprivation_score", "region"]},
    ],
    "models": [
        {"model": "naive"},
        {"model": "seasonal_naive"},
        {"model": "poisson_glm"},
        {"model": "lightgbm", "n_estimators": 40, "transform": "ratio"},
    ],
    "backtest": {"origins": 3, "min_train_periods": 6, "min_calibration_folds": 1},
}


def write(workdir: Path, config: dict) -> Path:
    path = workdir / f"{config['name']}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.mark.slow
def test_train_logs_parent_and_candidate_runs_with_everything_a_reviewer_needs(cli, workdir, store) -> None:
    result = cli("train", write(workdir, SMALL))
    assert result.exit_code == 0, result.output
    assert "wins" in result.output and "Logged to" in result.output

    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("small_train")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(parents) == 1 and len(children) == 4
    assert {r.info.status for r in runs} == {"FINISHED"}
    parent = parents[0]

    tags = parent.data.tags
    assert len(tags["git.commit"]) == 40 and tags["git.dirty"] in {"true", "false"}
    assert len(tags["config.hash"]) == 16 and len(tags["data.digest"]) == 16
    assert tags["winner"] in {c.data.tags["candidate"] for c in children}
    assert tags["selection.rule"].startswith("over 3 backtest origins and horizons 1 to 2: lowest score")
    assert tags["mlflow.note.content"].startswith("## small_train: winner **")
    assert parent.data.params["horizons"] == "1,2" and parent.data.params["backtest.origins"] == "3"
    assert "winner.mase" in parent.data.metrics and "best_baseline.mase" in parent.data.metrics
    assert {i.dataset.name for i in parent.inputs.dataset_inputs} == {"panel:small_train"}
    assert parent.inputs.dataset_inputs[0].dataset.digest == tags["data.digest"]

    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"experiment.yaml", "backtest"} <= artifacts
    backtest = {a.path for a in client.list_artifacts(parent.info.run_id, "backtest")}
    assert {
        "backtest/backtest.png",
        "backtest/comparison.csv",
        "backtest/selection.json",
        "backtest/metrics_by_fold.csv",
        "backtest/features.json",
    } <= backtest
    logged_yaml = Path(
        mlflow.artifacts.download_artifacts(
            run_id=parent.info.run_id, artifact_path="experiment.yaml", tracking_uri=store
        )
    ).read_text()
    assert yaml.safe_load(logged_yaml) == SMALL

    gbm = next(c for c in children if c.data.tags["candidate"] == "lightgbm_poisson_ratio")
    assert gbm.data.params["transform"] == "ratio" and gbm.data.tags["kind"] == "tree"
    history = client.get_metric_history(gbm.info.run_id, "fold.mase.h1")
    assert sorted(m.step for m in history) == [0, 1, 2]
    assert {"mase", "wape", "mae", "rmse", "bias", "coverage", "winkler", "mase.h2"} <= set(gbm.data.metrics)
    child_artifacts = {a.path for a in client.list_artifacts(gbm.info.run_id)}
    assert {"backtest_predictions.parquet", "forecast.csv", "explanations"} <= child_artifacts
    explained = {a.path.removeprefix("explanations/") for a in client.list_artifacts(gbm.info.run_id, "explanations")}
    assert {
        "shap_values.parquet",
        "importance_features.csv",
        "importance_concepts.csv",
        "importance.png",
        "beeswarm.png",
        "drivers.csv",
        "stability.csv",
        "additivity.json",
    } <= explained
    assert sum(name.startswith("dependence_") for name in explained) == 3
    assert gbm.data.tags["explain.additivity"] == "passed" and gbm.data.tags["explain.scale"] == "log1p"
    assert gbm.data.metrics["explain.additivity_max_error"] < 1e-9
    assert "explain.stability.top3_jaccard_mean" in gbm.data.metrics
    shap_values = pd.read_parquet(
        mlflow.artifacts.download_artifacts(
            run_id=gbm.info.run_id, artifact_path="explanations/shap_values.parquet", tracking_uri=store
        )
    )
    assert {"area_code", "origin", "feature", "concept", "value", "households", "percent"} <= set(shap_values.columns)
    assert shap_values.loc[shap_values["set"] == "forecast", "area_code"].nunique() == 296  # never sampled
    naive = next(c for c in children if c.data.tags["candidate"] == "naive")
    naive_explained = {a.path for a in client.list_artifacts(naive.info.run_id, "explanations")}
    assert naive_explained == {"explanations/drivers.csv"} and naive.data.tags["explain.method"] == "baseline"
    assert tags["explanations.logged"] == "true" and tags["explanations.additivity_passed"] == "true"

    # the model is logged MLflow-3 style, with a signature and an input example, and it predicts
    models = mlflow.search_logged_models(experiment_ids=[experiment.experiment_id], output_format="list")
    gbm_model = next(m for m in models if m.source_run_id == gbm.info.run_id)
    loaded = mlflow.pyfunc.load_model(gbm_model.model_uri)
    assert loaded.metadata.signature is not None
    example = loaded.input_example
    output = loaded.predict(example)
    assert list(output.columns) == ["forecast", "lower", "upper"]
    assert (output["lower"] <= output["forecast"]).all() and (output["forecast"] <= output["upper"]).all()


def test_bad_input_leaves_no_run_behind(cli, workdir, store) -> None:
    config = {**SMALL, "features": [{"builder": "covariate", "column": "possession_claims_rate", "lags": [1]}]}
    result = cli("train", write(workdir, config))
    assert result.exit_code == 2
    assert (
        "features[0] (covariate): lag 1 of 'possession_claims_rate' is not published at the origin "
        "(publication lag 1); the smallest usable lag is 2"
    ) in result.output
    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("small_train")
    assert experiment is None or client.search_runs([experiment.experiment_id]) == []


@pytest.mark.parametrize(
    "change,message",
    [
        ({"target": "evictions"}, "target 'evictions' is not one of the panel's targets"),
        ({"frequency": "month"}, "frequency 'month' does not match the panel, which is quarterly"),
        ({"models": [{"model": "lightgbm"}]}, "models: include at least one baseline"),
        (
            {"features": [{"builder": "static", "columns": ["council_tax_band"]}]},
            "features[0] (static): 'council_tax_band' is not a static attribute of the panel",
        ),
        ({"backtest": {"origins": 30}}, "backtest needs 39 (8 to train on"),
    ],
)
def test_experiments_that_do_not_fit_the_panel_are_refused_before_anything_runs(
    cli, workdir, store, change, message
) -> None:
    result = cli("train", write(workdir, {**SMALL, **change}))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert MlflowClient(store).get_experiment_by_name("small_train") is None


def test_tracking_store_defaults_to_sqlite_in_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.tracking.store import PROJECT_ROOT, artifact_root, tracking_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri() == f"sqlite:///{PROJECT_ROOT / 'mlruns.db'}"
    assert artifact_root(tracking_uri()) == (PROJECT_ROOT / "mlartifacts").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking_uri() == "http://127.0.0.1:5000"


def test_logged_metrics_match_the_backtest_table(cli, workdir, store) -> None:
    config = {**SMALL, "name": "small_naive", "models": [{"model": "naive"}, {"model": "seasonal_naive"}]}
    assert cli("train", write(workdir, config)).exit_code == 0
    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("small_naive")
    parent = next(r for r in client.search_runs([experiment.experiment_id]) if "mlflow.parentRunId" not in r.data.tags)
    table = pd.read_csv(
        mlflow.artifacts.download_artifacts(
            run_id=parent.info.run_id, artifact_path="backtest/comparison.csv", tracking_uri=store
        ),
        index_col=0,
    )
    winner = parent.data.tags["winner"]
    assert parent.data.metrics["winner.mase"] == pytest.approx(table.loc[winner, "mase"])
    assert "Only baselines were compared" in parent.data.tags["mlflow.note.content"]
