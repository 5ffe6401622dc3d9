"""The audit's bootstrap sums: the same as resampling units one replicate at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.audit.metrics import STATS, bootstrap_sums


def test_bootstrap_sums_equal_a_plain_loop_over_resamples() -> None:
    rng = np.random.default_rng(3)
    n, n_cells, replicates = 57, 6, 40
    units = pd.DataFrame({s: rng.normal(size=n) for s in STATS})
    cells = rng.integers(0, n_cells, size=n)
    sums = bootstrap_sums(units, cells, n_cells, replicates=replicates, seed=11)
    picks = np.vstack([np.arange(n)[None, :], np.random.default_rng(11).integers(0, n, size=(replicates, n))])
    for stat in STATS:
        expected = np.zeros((replicates + 1, n_cells))
        for r, drawn in enumerate(picks):
            for unit in drawn:
                expected[r, cells[unit]] += units[stat].iloc[unit]
        np.testing.assert_allclose(sums[stat], expected, rtol=1e-12, atol=1e-12)
    assert sums["actual"].shape == (replicates + 1, n_cells)
