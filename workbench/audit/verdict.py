"""From estimates and their bootstrap spread to verdicts, with control of the many comparisons.

Each judged (group, judge) is a one-sided test in the direction of harm: H0 "the harm is within the
limit" against H1 "the harm exceeds it", with z = (estimate - limit) / bootstrap standard error.
- fail: H0 is rejected after the correction for every test in the audit (Holm by default);
- pass: the one-sided upper confidence bound (level 1 - alpha) is within the limit;
- uncertain: neither; what happens then is the `uncertain` policy (report, block, approve).
The smallest detectable effect is where the test reaches the configured power at the corrected level.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm


def p_values(z: np.ndarray) -> np.ndarray:
    return np.asarray(norm.sf(z), dtype=float)


def adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Holm's step-down or Benjamini-Hochberg's step-up adjusted p-values (NaN stays NaN)."""
    out = np.full_like(p, np.nan, dtype=float)
    ok = ~np.isnan(p)
    q = p[ok]
    m = len(q)
    if m == 0 or method == "none":
        out[ok] = q
        return out
    order = np.argsort(q)
    ranked = q[order]
    if method == "holm":
        steps = np.maximum.accumulate(ranked * (m - np.arange(m)))
    else:  # fdr
        steps = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(steps, 1.0)
    out[ok] = adjusted
    return out


def judge_all(tests: pd.DataFrame, *, alpha: float, correction: str, power: float) -> pd.DataFrame:
    """Add p_value, p_adjusted, low, high, detectable, concern and verdict to judged tests.

    `tests` has value, se, limit, above_is_harm and judged; rows not judged keep their verdict."""
    t = tests.copy()
    sign = np.where(t["above_is_harm"], 1.0, -1.0)
    se = t["se"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = sign * (t["value"].to_numpy(float) - t["limit"].to_numpy(float)) / se
    estimable = ~np.isnan(z)
    judged = t["judged"].to_numpy(bool) & estimable
    p = np.where(judged, p_values(z), np.nan)
    t["p_value"] = p
    t["p_adjusted"] = adjust(p, correction)
    m = max(int(judged.sum()), 1)
    per_test = alpha / m if correction != "none" else alpha
    one_sided = norm.isf(alpha)
    t["low"] = t["value"] - one_sided * se
    t["high"] = t["value"] + one_sided * se
    t["detectable"] = t["limit"] + sign * (norm.isf(per_test) + norm.ppf(power)) * se
    t["concern"] = np.where(judged, z, -np.inf)
    harm_bound = np.where(sign > 0, t["high"], -t["low"])
    within = harm_bound <= sign * t["limit"]
    verdict = np.where(t["p_adjusted"] < alpha, "fail", np.where(within, "pass", "uncertain"))
    unestimable = t["judged"].to_numpy(bool) & ~estimable
    t["verdict"] = np.where(judged, verdict, np.where(unestimable, "not judged (no estimate)", t["verdict"]))
    t["judged"] = judged
    return t
