"""What the model tests share, made once per session: the default synthetic England panel. Tests read
it and never change it (they copy its frame, as `Panel` users must)."""

from __future__ import annotations

import pytest

from workbench.config import DataConfig
from workbench.data.contract import Panel
from workbench.data.load import load_panel


@pytest.fixture(scope="session")
def england() -> Panel:
    return load_panel(DataConfig(synthetic={}))
