"""Statistical disclosure control for everything published to policy teams.

The 10-5 rule, as commonly applied to small counts in UK official statistics: counts below
`threshold` (10) are suppressed and shown as `[c]`, never as 0; other counts are rounded to the
nearest `rounding` (5); totals are rounded to the nearest `total_rounding` (10). Secondary
suppression: where a group (e.g. a region) has exactly one suppressed area and its total is
published, the suppressed value could be recovered by subtraction, so the next smallest area in
that group is suppressed too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MARKER = "[c]"


@dataclass(frozen=True)
class DisclosureRule:
    threshold: int = 10
    rounding: int = 5
    total_rounding: int = 10
    secondary: bool = True

    def describe(self) -> str:
        text = (
            f"Counts below {self.threshold} are suppressed and shown as {MARKER}; other counts are rounded to the "
            f"nearest {self.rounding}, and totals to the nearest {self.total_rounding}."
        )
        if self.secondary:
            text += (
                " Where a suppressed value could be worked out from a published total, a second value is "
                "suppressed as well."
            )
        return text


def round_to(value: float, base: int) -> float:
    return float(base * np.round(value / base)) if np.isfinite(value) else float("nan")


def suppression_mask(values: pd.Series, groups: pd.Series | None, rule: DisclosureRule) -> pd.Series:
    """'primary', 'secondary' or '' for each value."""
    status = pd.Series(np.where(values < rule.threshold, "primary", ""), index=values.index, dtype=object)
    if rule.secondary and groups is not None:
        for _, members in values.groupby(groups):
            suppressed = status[members.index] != ""
            if suppressed.sum() == 1 and len(members) > 1:
                candidates = members[~suppressed]
                status[candidates.idxmin()] = "secondary"
    return status


def protect(
    values: pd.Series, *, groups: pd.Series | None, rule: DisclosureRule, status: pd.Series | None = None
) -> tuple[pd.Series, pd.Series]:
    """Published text for each value (rounded or `[c]`), and why each suppressed value was suppressed.
    Pass `status` to apply an existing pattern of suppression (e.g. the forecast's to its bounds)."""
    status = suppression_mask(values, groups, rule) if status is None else status
    text = values.map(lambda v: f"{round_to(v, rule.rounding):,.0f}" if np.isfinite(v) else "")
    return text.where(status == "", MARKER), status


def protect_total(value: float, rule: DisclosureRule) -> str:
    if not np.isfinite(value):
        return ""
    return MARKER if value < rule.threshold else f"{round_to(value, rule.total_rounding):,.0f}"
