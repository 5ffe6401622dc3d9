"""The panel logged as an MLflow dataset: the schema read from a few rows equals MLflow's own from all."""

from __future__ import annotations

import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.types.utils import _infer_schema

from workbench.data.contract import PERIOD
from workbench.tracking.dataset import panel_dataset, schema_rows


def _schema_or_none(frame):
    """What MLflow's PandasDataset.schema gives: the inferred schema, or None when it cannot infer one."""
    try:
        return _infer_schema(frame)
    except MlflowException:
        return None


def test_the_schema_from_each_areas_first_row_and_the_gaps_is_mlflows_schema_of_every_row(england) -> None:
    frame = england.frame.assign(**{PERIOD: england.frame[PERIOD].astype(str)})
    gappy = frame.copy()
    gappy.loc[gappy.index[777], "claimant_rate"] = np.nan  # one missing value deep inside the panel
    gappy.loc[gappy.index[1234], "area_name"] = None
    mixed = frame.assign(region=frame["region"].astype(object))
    mixed.loc[mixed.index[4321], "region"] = 7  # a number among the text: MLflow's schema changes
    for panel_frame in (frame, gappy, mixed):
        rows = schema_rows(panel_frame)
        assert len(rows) < 10 or panel_frame is mixed
        assert _schema_or_none(rows) == _schema_or_none(panel_frame)
    assert _schema_or_none(mixed) is None  # as MLflow's dataset says of mixed text: no schema
    assert not _infer_schema(schema_rows(gappy)).input_dict()["claimant_rate"].required


def test_the_logged_dataset_counts_every_row_and_names_the_panel(england) -> None:
    dataset = panel_dataset(england, name="panel:x", targets="owed_duty")
    assert dataset.profile["num_rows"] == len(england.frame)
    assert dataset.digest == england.digest()
    assert dataset.schema == _infer_schema(england.frame.assign(**{PERIOD: england.frame[PERIOD].astype(str)}))


def test_a_panel_mlflow_cannot_type_is_logged_without_a_schema(england) -> None:
    frame = england.frame.assign(region=england.frame["region"].astype(object))
    frame.loc[frame.index[10], "region"] = 7
    panel = england.__class__(frame=frame, spec=england.spec, source=england.source)
    assert panel_dataset(panel, name="panel:x").schema is None
