"""What the ledger knows about a model when the next forecast is published: a plain record, low
enough that the forecast step, the report and the tracking package may all import it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from workbench.data.contract import TARGET_PERIOD


@dataclass(frozen=True)
class Monitoring:
    """The latest scored forecasts and the review flag of the champion, read from the tracking store."""

    scored: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)  # latest scored vintage per origin
    review: bool = False
    reasons: tuple[str, ...] = ()
    checked_at: str = ""
    forecasts_recorded: int = 0  # forecast vintages in the ledger
    forecasts_scored: int = 0  # (forecast vintage, actuals vintage) pairs scored

    @property
    def last_period(self) -> pd.DataFrame:
        """The scored rows of the most recent target period (one vintage per area: the latest)."""
        if self.scored.empty:
            return self.scored
        last = self.scored[TARGET_PERIOD].max()
        return self.scored[self.scored[TARGET_PERIOD] == last]
