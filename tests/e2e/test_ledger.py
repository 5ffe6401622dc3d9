"""The forecast ledger end to end on a synthetic England panel advanced period by period: publish,
actuals arrive, score; revisions, re-publication, an interrupted score, a repeated score and a
planted shift. Commands run in this process through the CLI, against the test's own store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from workbench.data.synthetic.england import generate_england

pytestmark = pytest.mark.slow
NAME = "ledger_test"
COLUMNS = {
    "area": "area_code",
    "period": "period",
    "area_name": "area_name",
    "targets": {"owed_duty": "owed_duty"},
    "covariates": {"possession_claims_rate": {"column": "possession_claims_rate", "publication_lag": 0, "count": True}},
    "static": ["region", "urban_rural"],
    "groups": ["region", "urban_rural"],
}
CONFIG = {
    "name": NAME,
    "target": "owed_duty",
    "frequency": "quarter",
    "horizon": 1,
    "seed": 3,
    "data": {"file": {"path": "panel.csv", "columns": COLUMNS}},
    "features": [
        {"builder": "lag", "lags": [1, 2, 4]},
        {"builder": "rolling", "windows": [4]},
        {"builder": "covariate", "column": "possession_claims_rate", "transform": "log", "relative": True},
    ],
    "models": [{"model": "naive"}, {"model": "lightgbm", "transform": "ratio", "n_estimators": 30}],
    "backtest": {"origins": 3, "min_train_periods": 8, "min_calibration_folds": 1},
    "audit": {"groupings": ["region"], "bootstrap": 100},
    "explain": {"dependence_plots": 0, "max_rows_per_fold": 50},
    "gate": {"require_clean_tree": False, "champion_tolerance": 0.5},
    "report": {"target_label": "households owed a duty"},
}


@pytest.fixture
def england() -> pd.DataFrame:
    return generate_england(seed=11, start="2018Q2", end="2023Q1").assign(period=lambda f: f["period"].astype(str))


def publish(workdir, frame: pd.DataFrame, last: str) -> pd.DataFrame:
    """The panel as published up to `last`: what the team has when actuals for `last` arrive."""
    shown = frame[frame["period"] <= last]
    shown.to_csv(workdir / "panel.csv", index=False)
    return shown


def score_runs(client: MlflowClient) -> list:
    experiment = client.get_experiment_by_name(NAME)
    return client.search_runs([experiment.experiment_id], filter_string="tags.`workbench.run_type` = 'score'")


def test_publish_score_revise_interrupt_and_drift(cli, workdir, store, england, monkeypatch) -> None:
    from workbench.tracking.ledger import read_entries, read_scored

    monkeypatch.setenv("WORKBENCH_JOBS", "1")
    experiment = workdir / f"{NAME}.yaml"
    experiment.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    client = MlflowClient(store)

    publish(workdir, england, "2022Q2")
    assert cli("train", experiment).exit_code == 0
    for _ in range(2):  # the same origin published twice: two vintages, both kept
        result = cli("forecast", experiment)
        assert result.exit_code == 0, result.output
    entries = read_entries(NAME)
    assert sorted(entries.groupby("forecast_run_id")["vintage"].first()) == [1, 2]
    assert set(entries["origin"]) == {"2022Q2"} and set(entries["target_period"]) == {"2022Q3"}
    assert len(entries) == 2 * 296

    # actuals arrive: the panel now runs to 2022Q3
    arrived = publish(workdir, england, "2022Q3")
    result = cli("score", experiment)
    assert result.exit_code == 0, result.output
    assert "2 newly scored" in result.output
    assert "no review needed" in result.output  # no shift yet: the rule is not always on
    scored = read_scored(NAME)
    assert len(scored) == 2 * 296
    # the scores match hand arithmetic on the ledger and the panel
    first = entries[entries["vintage"] == 1].set_index("area_code")
    actual = arrived[arrived["period"] == "2022Q3"].set_index("area_code")["owed_duty"].reindex(first.index)
    f, y, lo, hi = first["forecast"], actual, first["lower"], first["upper"]
    mine = scored[scored["vintage"] == 1].set_index("area_code").reindex(first.index)
    assert np.allclose(mine["error"], f - y) and np.allclose(mine["abs_error"], (f - y).abs())
    assert (mine["hit"] == ((y >= lo) & (y <= hi))).all()
    alpha = 1 - first["level"]
    interval = (hi - lo) + 2 / alpha * ((lo - y).clip(lower=0) + (y - hi).clip(lower=0))
    assert np.allclose(mine["wis"], (0.5 * (y - f).abs() + alpha / 2 * interval) / 1.5)
    run = next(r for r in score_runs(client) if r.data.tags["ledger.vintage"] == "1")
    wape = client.get_metric_history(run.info.run_id, "live.wape")
    assert [m.step for m in wape] == [pd.Period("2022Q3", freq="Q").ordinal]
    assert wape[0].value == pytest.approx((f - y).abs().sum() / y.sum())
    london = first["group:region"] == "London"
    bias = client.get_metric_history(run.info.run_id, "live.bias.region.London")[0].value
    assert bias == pytest.approx((f - y)[london].sum() / y[london].sum())
    assert run.data.tags["model.version"] == "1"

    # scoring again with the same panel changes nothing
    before = {r.info.run_id for r in score_runs(client)}
    result = cli("score", experiment)
    assert result.exit_code == 0 and "0 newly scored, 2 already scored" in result.output
    assert {r.info.run_id for r in score_runs(client)} == before

    # a revision of the actuals, scored under an interrupted command first: nothing half-written
    revised = england.copy()
    rows = (revised["period"] == "2022Q3") & revised["region"].eq("London")
    revised.loc[rows, "owed_duty"] = (revised.loc[rows, "owed_duty"] * 1.2).round()
    publish(workdir, revised, "2022Q3")
    monkeypatch.setenv("WORKBENCH_FAILPOINT", "score_run")
    result = cli("score", experiment)
    assert result.exit_code == 143
    monkeypatch.delenv("WORKBENCH_FAILPOINT")
    assert read_scored(NAME).equals(scored.assign(score_run_id=scored["score_run_id"]))
    assert all(r.info.status != "RUNNING" for r in score_runs(client))
    result = cli("score", experiment)
    assert result.exit_code == 0 and "2 newly scored" in result.output, result.output
    both = read_scored(NAME)
    assert both["actuals_digest"].nunique() == 2 and len(both) == 4 * 296  # the first scores are kept
    old, new = (both[both["actuals_digest"] == d] for d in both["actuals_digest"].unique())
    assert not old["actual"].equals(new["actual"])

    # the next period: forecast from 2022Q3, then actuals arrive with a planted shift in a covariate
    result = cli("forecast", experiment)
    assert result.exit_code == 0, result.output
    status = cli("status", experiment)
    assert "Monitoring: version 1" in status.output
    shifted = revised.copy()
    # half the areas see possession claims six times higher: a shift relative to other areas
    half = shifted["area_code"].isin(shifted["area_code"].drop_duplicates().iloc[::2])
    late = (shifted["period"] == "2022Q4") & half
    shifted.loc[late, "possession_claims_rate"] *= 6
    publish(workdir, shifted, "2022Q4")
    result = cli("score", experiment)
    assert result.exit_code == 0, result.output
    assert "flagged for review" in result.output and "possession_claims_rate" in result.output
    tags = client.get_model_version(NAME, "1").tags
    assert tags["monitoring.review"] == "true"
    assert "flagged for review" in cli("status", experiment).output

    # the next report carries the accuracy section and the banner
    result = cli("forecast", experiment)
    assert result.exit_code == 0, result.output
    folder = sorted((workdir / "outputs" / "forecasts" / NAME).iterdir())[-1]
    html = (folder / "report.html").read_text()
    assert "How accurate were our last forecasts?" in html
    latest = read_scored(NAME).query("target_period == '2022Q4'")
    assert f"range in {latest['hit'].mean():.0%} of areas" in html
    assert "flagged for review" in html
    card = (folder / "model_card.md").read_text()
    assert "## Monitoring" in card
