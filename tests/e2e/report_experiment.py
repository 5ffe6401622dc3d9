"""The experiment the report tests train and forecast (synthetic England, three candidates), the
transparency fields it provides, and how they drive Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CONFIG = {
    "name": "report_test",
    "target": "owed_duty",
    "frequency": "quarter",
    "horizon": 2,
    "seed": 5,
    "data": {"synthetic": {"seed": 11, "start": "2018Q2", "end": "2023Q2"}},
    "features": [
        {"builder": "lag", "lags": [1, 2, 4]},
        {"builder": "rolling", "windows": [4]},
        {"builder": "seasonal"},
        {"builder": "covariate", "column": "possession_claims_rate", "transform": "log", "relative": True},
        {"builder": "static", "columns": ["deprivation_score", "region"]},
    ],
    "models": [
        {"model": "naive"},
        {"model": "seasonal_naive"},
        {"model": "lightgbm", "transform": "ratio", "n_estimators": 60},
    ],
    "backtest": {"origins": 3, "min_train_periods": 8, "min_calibration_folds": 1},
    "audit": {"groupings": ["region", "urban_rural"], "intersections": False, "bootstrap": 100},
    "gate": {"require_clean_tree": False},
    "explain": {"dependence_plots": 0},
    "report": {"title": "Test forecast", "target_label": "households owed a duty"},
}
# Transparency fields the published forecast is given; the others must say "Not provided".
PROVIDED = {"owner": "Housing analysis team", "contact": "forecasts@example.gov.uk", "legal_basis": "Public task"}
