"""What the model tests' backtests share: the feature builders of the synthetic panel and one-step
rolling origins over a panel's periods."""

from __future__ import annotations

import pandas as pd

from features import BUILDERS
from workbench.backtest import Fold, rolling_origins
from workbench.data.contract import PERIOD

FEATURES = [
    BUILDERS["lag"](lags=[1, 2, 3, 4]),
    BUILDERS["rolling"](windows=[4, 8]),
    BUILDERS["growth"](periods=[1, 4]),
    BUILDERS["seasonal"](),
    BUILDERS["structural_break"](),
    BUILDERS["covariate"](column="possession_claims_rate", transform="log", relative=True),
    BUILDERS["covariate"](column="claimant_rate", transform="log", relative=True),
    BUILDERS["covariate"](column="private_rent_index", change=4, relative=True),
    BUILDERS["static"](columns=["deprivation_score", "urban_rural"]),
]


def panel_folds(frame: pd.DataFrame, *, origins: int, max_horizon: int = 1, min_train_periods: int = 8) -> list[Fold]:
    """`origins` origins a period apart, ending where the panel's last period can still be scored."""
    return rolling_origins(
        first_period=frame[PERIOD].min(),
        last_period=frame[PERIOD].max(),
        origins=origins,
        step=1,
        max_horizon=max_horizon,
        min_train_periods=min_train_periods,
    )
