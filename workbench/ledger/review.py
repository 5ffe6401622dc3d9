"""The rule that flags a champion for review. Recording never decides: this module decides, and
workbench/tracking/ledger.py records the decision as registry tags.

The champion is flagged for review when any of these holds:
1. input drift: a feature's PSI against the training window is at least 0.25 (a major shift);
2. accuracy: the latest period's live WAPE is above the 95% range expected from the backtest;
3. intervals: the latest period's live coverage is below the 95% range around the backtest coverage.
A flag asks people to look; it does not stop publication or move the champion.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from workbench.ledger.drift import DriftCheck

PSI_REVIEW = 0.25


@dataclass(frozen=True)
class ReviewDecision:
    review: bool
    reasons: tuple[str, ...]
    drifted: tuple[str, ...]  # features whose PSI reached the threshold

    def summary(self) -> str:
        if not self.review:
            return "no review needed: inputs and errors are within the expected ranges"
        return "flagged for review: " + "; ".join(self.reasons)


def decide_review(psi: pd.DataFrame, checks: list[DriftCheck], *, threshold: float = PSI_REVIEW) -> ReviewDecision:
    reasons: list[str] = []
    drifted = psi[psi["psi"] >= threshold].sort_values("psi", ascending=False) if not psi.empty else psi
    if len(drifted):
        shown = ", ".join(f"{r.feature} (PSI {r.psi:.2f})" for r in drifted.head(3).itertuples())
        reasons.append(f"input drift in {len(drifted)} feature(s): {shown}")
    for check in checks:
        if check.measure == "WAPE" and check.live > check.high:
            reasons.append(check.sentence())
        if check.measure == "Interval coverage" and check.live < check.low:
            reasons.append(check.sentence())
    features = tuple(drifted["feature"]) if len(drifted) else ()
    return ReviewDecision(review=bool(reasons), reasons=tuple(reasons), drifted=features)
