"""Judging disparities against thresholds, on the confidence interval.

The rule, for each metric, grouping and group with at least `min_group_size` areas:
- pass: the whole confidence interval of the disparity lies within the allowed range;
- fail: the whole interval lies outside it (clear evidence of a disparity);
- uncertain: the interval straddles a bound. Uncertain results are reported; they block
  promotion only when `block_on_uncertain` is set.
Groups smaller than `min_group_size` are reported but not judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# threshold name -> (metric, what is compared, how the bound reads)
CHECKS = {
    "wape_ratio": ("wape", "ratio"),
    "mase_ratio": ("mase", "ratio"),
    "bias_difference": ("bias", "difference"),
    "under_share_difference": ("under_share", "difference"),
    "under_upper_share_difference": ("under_upper_share", "difference"),
    "coverage_min": ("coverage", "value"),
}


@dataclass(frozen=True)
class Bounds:
    low: float = -math.inf
    high: float = math.inf

    def describe(self) -> str:
        if math.isinf(self.low):
            return f"at most {self.high:g}"
        if math.isinf(self.high):
            return f"at least {self.low:g}"
        return f"within {self.low:g} to {self.high:g}"


def bounds_for(check: str, setting) -> Bounds:
    if check in {"wape_ratio", "mase_ratio"}:
        return Bounds(float(setting[0]), float(setting[1]))
    if check == "bias_difference":  # under-forecasting against the reference is the harm
        return Bounds(low=-float(setting))
    if check in {"under_share_difference", "under_upper_share_difference"}:
        return Bounds(high=float(setting))
    return Bounds(low=float(setting))  # coverage_min


def judge(low: float, high: float, bounds: Bounds) -> str:
    if math.isnan(low) or math.isnan(high):
        return "not judged"
    if bounds.low <= low and high <= bounds.high:
        return "pass"
    if high < bounds.low or low > bounds.high:
        return "fail"
    return "uncertain"
