"""The panel as an MLflow dataset input of a run, for training and for forecasting alike.

MLflow infers a dataset's schema by looking at every value of every text column: 34 s for 280,000
rows. A validated panel's columns each hold one type, so the schema is inferred from the rows that
can tell anything: one row for the types, and for each column with a gap one row where it is
missing (which columns may be empty). A text column holding anything but text is shown whole. The
schema is the same; the profile still counts every row.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from workbench.data.contract import PERIOD, Panel

if TYPE_CHECKING:
    from mlflow.data.pandas_dataset import PandasDataset


def schema_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows a panel's schema is inferred from: the first; for each column with a gap, the first
    row where it is missing; and every row of any text column that holds something other than text."""
    keep = np.zeros(len(frame), dtype=bool)
    keep[:1] = True
    missing = frame.isna().to_numpy()
    gappy = missing.any(axis=0)
    keep[missing[:, gappy].argmax(axis=0)] = True
    for name in frame.select_dtypes(include="object").columns:
        if pd.api.types.infer_dtype(frame[name], skipna=True) not in ("string", "empty"):
            keep[:] = True  # mixed values: MLflow must see them all
    return frame[keep]


def panel_dataset(panel: Panel, *, name: str, targets: str | None = None) -> PandasDataset:
    """The panel, its periods as text, named and fingerprinted by the panel's own digest."""
    from mlflow.data.pandas_dataset import PandasDataset, from_pandas
    from mlflow.types.utils import _infer_schema

    class PanelDataset(PandasDataset):
        @property
        def schema(self):  # type: ignore[no-untyped-def]
            try:
                return _infer_schema(schema_rows(self._df))
            except MlflowException:  # as MLflow's own: a frame it cannot type has no schema
                return None

    frame = panel.frame.assign(**{PERIOD: panel.frame[PERIOD].astype(str)})
    resolved = from_pandas(frame.iloc[:0], source=panel.source).source
    return PanelDataset(df=frame, source=resolved, targets=targets, name=name, digest=panel.digest())


def log_dataset(dataset: PandasDataset, *, context: str, attempts: int = 5) -> None:
    """`mlflow.log_input` into the active run. Concurrent runs of one experiment can race to insert
    the same dataset row (a UNIQUE constraint on SQLite); the loser tries again and finds it."""
    for attempt in range(attempts):
        try:
            mlflow.log_input(dataset, context=context)
            return
        except MlflowException as error:
            if (
                "UNIQUE constraint" not in str(error) and "IntegrityError" not in str(error)
            ) or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
