"""Target transforms, so a tree model can follow a trend it could not extrapolate in levels.

Each transform maps the target to what the model learns and back, using the reference columns of
the same row (what was known at the origin):

- `none`: the count itself.
- `log`: log(1 + y).
- `difference`: y minus the last observed value.
- `ratio`: (1 + y) over (1 + the mean of the last `window` values), a multiple of the recent level.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

TransformName = Literal["none", "log", "difference", "ratio"]


def forward(name: TransformName, y: np.ndarray, rows: pd.DataFrame, *, window: int) -> np.ndarray:
    if name == "none":
        return y
    if name == "log":
        return np.log1p(y)
    if name == "difference":
        return y - rows["ref_last"].to_numpy(dtype=float)
    level = rows[f"ref_recent_mean_w{window}"].to_numpy(dtype=float)
    return (1 + y) / (1 + level)


def inverse(name: TransformName, z: np.ndarray, rows: pd.DataFrame, *, window: int) -> np.ndarray:
    if name == "none":
        out = z
    elif name == "log":
        out = np.expm1(z)
    elif name == "difference":
        out = rows["ref_last"].to_numpy(dtype=float) + z
    else:
        out = z * (1 + rows[f"ref_recent_mean_w{window}"].to_numpy(dtype=float)) - 1
    return np.clip(out, 0, None)
