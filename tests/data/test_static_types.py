"""A file panel can declare a static attribute as numeric; undeclared ones stay categories."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from features import BUILDERS
from workbench.config import DataConfig
from workbench.data.load import load_panel
from workbench.featurize import build_feature_table


def write(tmp_path, scores) -> DataConfig:
    rows = [
        {"code": code, "year": year, "y": 10 + i + year % 3, "score": scores[i], "region": "North" if i else "South"}
        for i, code in enumerate(["A1", "A2", "A3"])
        for year in range(2010, 2016)
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "panel.csv", index=False)
    columns = {
        "area": "code",
        "period": "year",
        "targets": ["y"],
        "static": {"score": {"column": "score", "type": "numeric"}, "region": "region"},
        "groups": ["region"],
    }
    return DataConfig(file={"path": tmp_path / "panel.csv", "area_code_pattern": r"^A\d$", "columns": columns})


def test_a_numeric_static_attribute_is_a_number_and_others_stay_categories(tmp_path) -> None:
    panel = load_panel(write(tmp_path, [1.5, 2.5, 30]))
    assert panel.spec.static == ("score", "region") and panel.spec.numeric_static == ("score",)
    assert panel.frame["score"].dtype == float
    table = build_feature_table(
        panel, target="y", builders=[BUILDERS["static"](columns=["score", "region"])], horizons=[1]
    )
    kinds = {f.name: f.kind for f in table.features}
    assert kinds["score"] == "numeric" and kinds["region"] == "category"
    assert table.frame["score"].max() == 30


def test_a_numeric_static_attribute_cannot_be_a_group(tmp_path) -> None:
    config = write(tmp_path, [1, 2, 3]).file.model_dump()
    config["columns"]["groups"] = ["score"]
    with pytest.raises(ValidationError, match=r"groups \['score'\] are numeric static attributes"):
        DataConfig(file=config)
