"""A combination as the champion: it is registered, `workbench forecast` serves it from the
registry and explains it, and the model card says what it combines.

To make the combination the winner whatever the data, it combines one model, the GLM, so it ties
the GLM on every metric, and its name sorts first, which breaks the tie in the ranking."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from tests.conftest import train_in_process
from tests.e2e.report_experiment import CONFIG

COMBINED = "glm_as_combination"


def test_a_combination_champion_forecasts_from_the_registry(tmp_path: Path, _empty_tracking_db: Path) -> None:
    config = {
        **CONFIG,
        "name": "combination_test",
        "models": [
            {"model": "naive"},
            {"model": "poisson_glm"},
            {"model": "combination", "of": ["poisson_glm"], "k": 1, "name": COMBINED},
        ],
    }
    experiment = tmp_path / "combination_test.yaml"
    experiment.write_text(yaml.safe_dump(config, sort_keys=False))
    store = train_in_process(tmp_path, experiment, "train", "forecast", empty_db=_empty_tracking_db)
    (published,) = (store.folder / "outputs" / "forecasts" / "combination_test").iterdir()
    card = (published / "model_card.md").read_text()
    assert f"- Model: `{COMBINED}` (combination: a mean of one candidate, the best: poisson_glm)" in card
    forecast = pd.read_csv(published / "forecast.csv")
    assert forecast["area_code"].nunique() == 296 and forecast["forecast"].notna().all()
    explained = forecast.loc[forecast["suppressed"].isna(), "drivers"]
    assert explained.str.contains("The model's main reasons").all()
