"""The panel logged as an MLflow dataset: the schema read from a few rows equals MLflow's own from all."""

from __future__ import annotations

import numpy as np
from mlflow.types.utils import _infer_schema

from workbench.data.contract import PERIOD
from workbench.tracking.dataset import panel_dataset, schema_rows


def test_the_schema_from_each_areas_first_row_and_the_gaps_is_mlflows_schema_of_every_row(england) -> None:
    frame = england.frame.assign(**{PERIOD: england.frame[PERIOD].astype(str)})
    gappy = frame.copy()
    gappy.loc[gappy.index[777], "claimant_rate"] = np.nan  # one missing value deep inside the panel
    gappy.loc[gappy.index[1234], "area_name"] = None
    for panel_frame in (frame, gappy):
        rows = schema_rows(panel_frame)
        assert len(rows) < len(panel_frame) / 10
        assert _infer_schema(rows) == _infer_schema(panel_frame)
    assert not _infer_schema(schema_rows(gappy)).input_dict()["claimant_rate"].required


def test_the_logged_dataset_counts_every_row_and_names_the_panel(england) -> None:
    dataset = panel_dataset(england, name="panel:x", targets="owed_duty")
    assert dataset.profile["num_rows"] == len(england.frame)
    assert dataset.digest == england.digest()
    assert dataset.schema == _infer_schema(england.frame.assign(**{PERIOD: england.frame[PERIOD].astype(str)}))
