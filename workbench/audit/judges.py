"""The judges: each turns the bootstrap sums of one grouping into an estimate per group, in the
direction of harm, with its bootstrap replicates.

- bias: how much more the group is under-forecast than areas of similar size (and than the truth) (signed,
  volume-weighted relative bias, Sum(forecast - actual) / Sum(actual), within size bands,
  standardised to the group's own size mix), beyond the same gap for the status quo. A group that
  is over-forecast relative to like areas counts as no gap, so it never fails for that.
- under_rate: how much more often the group's actuals land above the interval's upper bound than
  in areas of similar size, beyond the status quo's gap.
- tail_coverage: the share of the group's actuals at or below the upper bound (coverage of the
  tail where need is missed); harm is falling below the floor.
- skill: the group's shortfall (actual above forecast, summed) over the status quo's on the same
  rows; harm is missing more need than the status quo by more than the tolerance. Only shortfalls
  count, so over-forecasting never fails this judge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.data.contract import ACTUAL


@dataclass(frozen=True)
class Judge:
    name: str
    describe: str  # how the limit reads, with {limit} and {baseline}
    above_is_harm: bool  # harm is the value above the limit (else below)
    needs_baseline: bool = False


JUDGES = {
    "bias": Judge("bias", "gap in under-forecast vs like-sized areas at most {limit:g} beyond {baseline}'s", True),
    "under_rate": Judge(
        "under_rate", "gap in actuals above the upper bound at most {limit:g} beyond {baseline}'s", True
    ),
    "tail_coverage": Judge("tail_coverage", "share of actuals at or below the upper bound at least {limit:g}", False),
    "skill": Judge("skill", "shortfall at most {limit:g} times {baseline}'s", True, needs_baseline=True),
}


def limit_for(name: str, tolerance: float) -> float:
    return 1.0 + tolerance if name == "skill" else tolerance


def _divide(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


def _standardised(gap: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average over size bands of a (replicate, group, band) gap, weighted by the group's own mix."""
    usable = ~np.isnan(gap) & (weights[None] > 0)
    total = np.where(usable, weights[None], 0.0).sum(axis=2)
    return _divide(np.where(usable, gap * weights[None], 0.0).sum(axis=2), total)


def _band_gap(sums: dict[str, np.ndarray], top: str, bottom: str, *, bias: bool) -> np.ndarray:
    """Per (replicate, group, band): how much worse off the group is than the rest of the band. For
    bias the group must also be under-forecast itself, so an accurate group never shows a gap."""
    group_top, group_bottom = sums[top], sums[bottom]  # (replicate, group, band)
    rest_top = group_top.sum(axis=1, keepdims=True) - group_top
    rest_bottom = group_bottom.sum(axis=1, keepdims=True) - group_bottom
    group, rest = _divide(group_top, group_bottom), _divide(rest_top, rest_bottom)
    gap: np.ndarray = np.minimum(-group, rest - group) if bias else group - rest
    return gap


def _gap_beyond_status_quo(
    sums: dict[str, np.ndarray], top: str, bottom: str, weight: str, *, bias: bool
) -> tuple[np.ndarray, np.ndarray]:
    point = sums[weight][0]
    rest = point.sum(axis=0, keepdims=True) - point
    weights = np.where((point > 0) & (rest > 0), point, 0.0)
    model = _standardised(_band_gap(sums, top, bottom, bias=bias), weights)
    base_bottom = bottom if bottom == "actual" else f"base_{bottom}"
    base = _standardised(_band_gap(sums, f"base_{top}", base_bottom, bias=bias), weights)
    return np.maximum(model, 0.0) - np.maximum(base, 0.0), model - base


def estimate(name: str, sums: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(values, spread), each (1 + replicates, groups), first row the point estimate; `sums` are
    (replicate, group, band). The standard error is taken from `spread`, the same quantity before
    over-forecast gaps are set to zero, so a gap near zero keeps an honest spread."""
    if name == "bias":
        return _gap_beyond_status_quo(sums, "signed", ACTUAL, ACTUAL, bias=True)
    if name == "under_rate":
        return _gap_beyond_status_quo(sums, "under", "cal", "cal", bias=False)
    if name == "tail_coverage":
        value = 1.0 - _divide(sums["under"].sum(axis=2), sums["cal"].sum(axis=2))
    elif name == "skill":
        value = _divide(sums["short"].sum(axis=2), sums["base_short"].sum(axis=2))
    else:
        raise KeyError(name)
    return value, value
