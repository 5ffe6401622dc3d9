"""Experiment YAML validation: exact messages for the mistakes people make."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.config import load_experiment, parse_experiment
from workbench.errors import ConfigError

SOURCE = Path("experiments/x.yaml")
VALID_FILE = "columns: {targets: [y]}, path: p.csv"


def error_for(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_experiment(text, source=SOURCE)
    return str(caught.value)


def test_minimal_synthetic_experiment_parses_with_defaults() -> None:
    experiment = parse_experiment("name: a\ntarget: owed_duty\ndata: {synthetic: {}}", source=SOURCE)
    assert experiment.data.synthetic.start == "2018Q2"
    assert experiment.data.synthetic.end == "2026Q2"
    assert len(experiment.config_hash) == 16


def test_config_hash_changes_with_the_text() -> None:
    one = parse_experiment("name: a\ntarget: y\ndata: {synthetic: {seed: 1}}", source=SOURCE)
    two = parse_experiment("name: a\ntarget: y\ndata: {synthetic: {seed: 2}}", source=SOURCE)
    assert one.config_hash != two.config_hash


@pytest.mark.parametrize(
    "text,expected",
    [
        (
            "name: a\ntarget: y\ndata: {synthetic: {seeds: 1}}",
            "experiments/x.yaml: unknown key 'seeds' at data.synthetic; known: seed, start, end, trend_per_year, "
            "small_areas; did you mean 'seed'?",
        ),
        (
            "name: a\ntarget: y\nfeature: []\ndata: {synthetic: {}}",
            "experiments/x.yaml: unknown key 'feature' at the top level; known: name, description, target, data, "
            "frequency, horizon, seed, features, models, backtest, selection, explain, audit, gate, report, hierarchy, engine, quick; did you mean 'features'?",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {}}\nfeatures: [{builder: lags}]",
            "experiments/x.yaml: unknown builder 'lags' in features[0]; known: lag, rolling, growth, seasonal, "
            "structural_break, covariate, static, regional_trend; did you mean 'lag'?",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {}}\nfeatures: [{builder: lag}, {builder: rolling, window: 3}]",
            "experiments/x.yaml: unknown key 'window' at features[1] (rolling); known: stat, windows; "
            "did you mean 'windows'?",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {}}\nfeatures: [{lags: [1]}]",
            "experiments/x.yaml: features[0]: each entry needs 'builder: <name>'; known: lag, rolling, growth, seasonal, "
            "structural_break, covariate, static, regional_trend",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {}}\nfeatures: [{builder: rolling, stat: median}]",
            "experiments/x.yaml: features[0].stat: Input should be 'mean', 'std', 'min' or 'max'",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {}}\nmodels: [{model: xgboost}]",
            "experiments/x.yaml: unknown model 'xgboost' in models[0]; known: naive, seasonal_naive, recent_mean, "
            "poisson_glm, lightgbm, auto_ets, auto_arima, auto_theta, croston, intermittent_aggregated, tsb, combination",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {}}\n"
            "models: [{model: naive}, {model: poisson_glm}, {model: combination, of: [poisson_glm, lightgbm]}]",
            "experiments/x.yaml: models[2].of: 'lightgbm' is not among the candidates; known: naive, poisson_glm, "
            "combination_mean_best3",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {}}\nmodels: [{model: naive}, {model: combination, of: [naive]}]",
            "experiments/x.yaml: models[1].of: 'naive' is a baseline; a combination combines models that are neither "
            "baselines nor combinations",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {}}\nmodels: [{model: naive}, {model: combination, how: median}]",
            "experiments/x.yaml: models[1] (combination_median_best3): nothing to combine; list a model that is not a "
            "baseline",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {}}\nmodels: [{model: poisson_glm}, {model: combination, of: top}]",
            "experiments/x.yaml: models[1].of: write 'best' (every model that is not a baseline) or a list of candidate "
            "names, each once",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {}}\nmodels: [{model: lightgbm, objective: poisson, transform: log}]",
            "experiments/x.yaml: models[0] (lightgbm): objective 'poisson' needs a non-negative target on the count scale; "
            "with transform 'log' use objective 'l2'",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {}}\nmodels: [{model: naive}, {model: naive}]",
            "experiments/x.yaml: models: two candidates are named 'naive'; give one of them a different 'name'",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {}}\nselection: {metric: r2}",
            "experiments/x.yaml: selection.metric: Input should be 'mase', 'wape', 'mae', 'rmse' or 'winkler'",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {}}\nbacktest: {origins: 0}",
            "experiments/x.yaml: backtest.origins: Input should be greater than or equal to 1",
        ),
        (
            f"name: a\ntarget: y\ndata: {{file: {{{VALID_FILE}, sep: ';'}}}}",
            "experiments/x.yaml: unknown key 'sep' at data.file; known: path, columns, frequency, area_code_pattern, "
            "na_values, missing_covariates, max_count, max_file_mb",
        ),
        (
            "name: a\ntarget: y\ndata: {file: {path: p.csv, columns: {targets: [y], covariates: {c: {column: c, lagg: 1}}}}}",
            "experiments/x.yaml: unknown key 'lagg' at data.file.columns.covariates.c; known: column, publication_lag, "
            "count",
        ),
        (
            "name: a\ntarget: y\ndata: {file: {path: p.csv, columns: {targets: [y], period: {yr: a, quarter: q}}}}",
            "experiments/x.yaml: missing required key 'data.file.columns.period.year'\n"
            "experiments/x.yaml: unknown key 'yr' at data.file.columns.period; known: year, quarter, month; "
            "did you mean 'year'?",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {}, file: {path: p.csv, columns: {targets: [y]}}}",
            "experiments/x.yaml: data: give exactly one data source: 'synthetic', 'file' or 'official'",
        ),
        (
            "name: a\ntarget: y\ndata: {synthetic: {end: 2026-13}}",
            "experiments/x.yaml: data.synthetic.end: '2026-13' is not a quarter; write it like 2026Q2",
        ),
        ("name: a\ndata: {synthetic: {}}", "experiments/x.yaml: missing required key 'target'"),
        (
            "name: a\ntarget: y\ndata: {file: {path: p.csv, columns: {targets: [y], static: [r], groups: [q]}}}",
            "experiments/x.yaml: data.file.columns: groups ['q'] must be names under 'static' (r)",
        ),
        (
            "name: a\ntarget: y\ndata: {file: {path: p.csv, frequency: weekly, columns: {targets: [y]}}}",
            "experiments/x.yaml: data.file.frequency: unknown frequency 'weekly'; known: year, quarter, month",
        ),
        ("- just\n- a list", "experiments/x.yaml: an experiment is a YAML mapping with keys name, target and data"),
    ],
)
def test_schema_errors_are_exact(text: str, expected: str) -> None:
    assert error_for(text) == expected


def test_covariate_lag_must_not_be_negative() -> None:
    message = error_for(
        "name: a\ntarget: y\ndata: {file: {path: p.csv, columns: {targets: [y], "
        "covariates: {c: {column: c, publication_lag: -1}}}}}"
    )
    assert message == (
        "experiments/x.yaml: data.file.columns.covariates.c.publication_lag: Input should be greater than or equal to 0"
    )


def test_missing_experiment_lists_the_ones_that_exist(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text("name: a")
    with pytest.raises(ConfigError) as caught:
        load_experiment(tmp_path / "typo.yaml")
    assert (
        str(caught.value)
        == f"experiment file '{tmp_path / 'typo.yaml'}' does not exist; experiments in {tmp_path}: real.yaml"
    )


def test_shipped_experiments_are_valid() -> None:
    for path in sorted(Path(__file__).parents[2].joinpath("experiments").glob("*.yaml")):
        assert load_experiment(path).name == path.stem
