"""Stores trained once per session for the end-to-end tests: training is the expensive step, and
most tests only read what it wrote. A test that changes a store works on its own copy."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import TrainedStore, train_in_process
from tests.e2e.report_experiment import CONFIG, PROVIDED


@pytest.fixture(scope="session")
def report_store(tmp_path_factory: pytest.TempPathFactory, _empty_tracking_db: Path) -> TrainedStore:
    """The report experiment trained and forecast once, with the transparency fields of PROVIDED and
    totals over regions.
    Read it only; copy it (`copy_to`) to change it."""
    folder = tmp_path_factory.mktemp("report-store")
    experiment = folder / "report_test.yaml"
    config = {
        **CONFIG,
        "report": {**CONFIG["report"], **PROVIDED},
        "hierarchy": {"levels": ["region"], "total_label": "England"},
    }
    experiment.write_text(yaml.safe_dump(config, sort_keys=False))
    return train_in_process(folder, experiment, "train", "forecast", empty_db=_empty_tracking_db)


@pytest.fixture(scope="session")
def published(report_store: TrainedStore) -> Path:
    """The folder of outputs the report experiment's forecast published."""
    (folder,) = (report_store.folder / "outputs" / "forecasts" / CONFIG["name"]).iterdir()
    return folder
