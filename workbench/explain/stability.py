"""How stable each area's top drivers are from one backtest origin to the next.

For every area (at the shortest horizon) the top concepts at consecutive origins are compared:
the Jaccard similarity of the two sets (1 = the same drivers, 0 = none in common) and whether the
single biggest driver stayed the same.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.data.contract import AREA, HORIZON, ORIGIN
from workbench.explain.units import by_concept
from workbench.explain.values import AdditiveExplanation


def top_concepts(explanation: AdditiveExplanation, *, top: int) -> pd.DataFrame:
    values = by_concept(explanation).abs()
    # a stable descending sort per row, so ties keep the columns' order
    order = np.argsort(-values.to_numpy(dtype=float), axis=1, kind="stable")[:, :top]
    names = np.asarray(values.columns)[order]
    return explanation.keys.assign(top=[list(row) for row in names])


def driver_stability(explanation: AdditiveExplanation, *, top: int = 3) -> tuple[pd.DataFrame, dict[str, float]]:
    tops = top_concepts(explanation, top=top)
    tops = tops[tops[HORIZON] == tops[HORIZON].min()].sort_values([AREA, ORIGIN])
    records = []
    for area, group in tops.groupby(AREA, sort=False):
        sets = [set(t) for t in group["top"]]
        firsts = [t[0] for t in group["top"]]
        origins = [str(o) for o in group[ORIGIN]]
        for i in range(1, len(sets)):
            records.append(
                {
                    AREA: area,
                    "from_origin": origins[i - 1],
                    "to_origin": origins[i],
                    "jaccard": len(sets[i] & sets[i - 1]) / len(sets[i] | sets[i - 1]),
                    "top_driver_unchanged": firsts[i] == firsts[i - 1],
                    "top_drivers": ", ".join(group["top"].iloc[i]),
                }
            )
    pairs = pd.DataFrame(records)
    if pairs.empty:
        return pairs, {}
    summary = {
        "top3_jaccard_mean": float(pairs["jaccard"].mean()),
        "top1_unchanged_share": float(pairs["top_driver_unchanged"].mean()),
        "areas_with_any_change_share": float((pairs.groupby(AREA)["jaccard"].min() < 1).mean()),
    }
    return pairs, summary
