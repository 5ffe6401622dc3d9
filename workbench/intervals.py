"""Prediction intervals by Mondrian split-conformal calibration on backtest residuals.

Residuals are taken on the log scale, r = log(1 + actual) - log(1 + forecast), so an interval is a
multiplicative band around the forecast that suits counts from single digits to thousands. On that
scale the noise of a small area is far larger than a big one's, so one band pooled over every area
under-covers small areas and over-covers big ones. The calibration is therefore Mondrian: for each
horizon, the calibration rows are put into bands of area size and each band gets its own interval,
bounded by order statistics of its residuals as split conformal prediction takes them (with its
finite-sample correction), so coverage holds within every size band and not only on average.

Counts make residuals tie (a forecast of 0 and an actual of 0 give 0 in every quiet area), and
split conformal's two order statistics then hold every tied residual at both ends, over-covering by
the weight of the ties. A band therefore holds, ties counted, the fewest calibration residuals it
must (as many as split conformal's order statistics span), its misses split as evenly as they can
be between the tails: without ties, split conformal's interval; with ties, as close above nominal
as the ties allow, and still one deterministic interval for a given forecast and size.

The size of an area is its recent level as known at the origin (`ref_recent_mean_w4`, the mean of
its last four observed values), never the actual being forecast. The edges between size bands are
quantiles of size over the calibration rows (quintiles by default) and are stored with the bands,
so later forecasts are placed into the bands the calibration defined. When the calibration rows are
too few for that many bands of at least `min_residuals` rows each, fewer bands are made; a band that
still holds fewer than `min_residuals` residuals (ties in size can make one small), or a row whose
size is unknown, uses the pooled band of its horizon. The minimum is never below what the level
needs for both quantiles to be interior (2 / alpha - 1 residuals, 9 at 80%).

In the backtest a fold is only calibrated on residuals whose actuals were observed by its origin,
so the coverage it reports is honest, and only on those of the latest `CALIBRATION_ORIGINS` such
origins (the final bands on the backtest's latest origins): split conformal assumes the residuals
it calibrates on are exchangeable with the ones it covers, and over years they are not. Where an
area's noise drifts (population growth settling down, a reporting change), old residuals keep an
interval at the width of years ago; on 185 countries' populations calibrating on every earlier
origin over-covered every size quintile by 4 to 6 points at 20 origins, where the latest three
origins kept each within 3.1 (README, "Calibration window"). Two origins did about as well; three
hold half as many residuals again per band, so three is the default.

This is written here rather than taken from crepes or MAPIE because crepes' conformal regressor is
symmetric in the residual (its predictive system would add a dependency for one quantile per band)
and MAPIE calibrates by calling one fitted estimator on calibration rows, whereas these residuals
come from a model refitted at every origin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.data.contract import HORIZON

SIZE_WINDOW = 4
SIZE = f"ref_recent_mean_w{SIZE_WINDOW}"  # an area's size as known at the origin
SIZE_BANDS = 5  # quintiles of size
# The latest origins whose residuals calibrate a fold (and the final bands); None: every earlier one.
CALIBRATION_ORIGINS = 3
# Fewer calibration residuals than this in a size band: the pooled band is used. The coverage of a
# band calibrated on n residuals varies by about sqrt(level * (1 - level) / n) from one calibration
# set to the next (6 points at n = 50 and 80%), so smaller bands trade a size bias for noise as large.
MIN_BAND_RESIDUALS = 50
# Bounds are widened by this much on the log scale, so that an actual whose residual is a bound stays
# inside the interval after the round trip through exp (log1p(1) - log1p(f) + log1p(f) is not always
# log1p(1) in floating point); it moves a bound by a billionth of itself.
ROUND_TRIP = 1e-9


def log_residuals(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    return np.asarray(np.log1p(np.clip(actual, 0, None)) - np.log1p(np.clip(forecast, 0, None)), dtype=float)


@dataclass(frozen=True)
class ConformalBand:
    level: float
    lower_q: float
    upper_q: float
    n: int

    @classmethod
    def fit(cls, residuals: np.ndarray, *, level: float) -> ConformalBand:
        """The band whose bounds are residuals of the calibration set: of the intervals that hold at
        least as many residuals (ties counted, ends included) as split conformal's order statistics
        span, the one that holds fewest, then the one whose misses split most evenly between the
        tails. Without ties that is split conformal's interval; with ties (counts, many zeros) it
        does not over-cover by the weight of the tied residuals at both ends. It never leaves out
        the forecast itself (a residual of 0) unless split conformal's interval does."""
        residuals = np.sort(residuals[np.isfinite(residuals)])
        n = len(residuals)
        alpha = 1 - level
        # split conformal's order statistics, 1-based (the nudges keep 100 x 0.9 from rounding to 91)
        first = max(1, math.floor((n + 1) * alpha / 2 + 1e-9))
        last = min(n, math.ceil((n + 1) * (1 - alpha / 2) - 1e-9))
        values, counts = np.unique(residuals, return_counts=True)
        at_most = np.cumsum(counts)  # residuals at or below each value
        below = at_most - counts  # residuals strictly below each value
        # bounds may close in on the forecast, never pass it: a lower bound at most max(0, split
        # conformal's), an upper bound at least min(0, split conformal's)
        lowest_upper = np.searchsorted(values, min(0.0, residuals[last - 1]), side="left")
        upper = np.maximum(np.searchsorted(at_most, below + (last - first + 1), side="left"), lowest_upper)
        lower = np.flatnonzero((upper < len(values)) & (values <= max(0.0, residuals[first - 1])))
        upper = upper[lower]
        held = at_most[upper] - below[lower]
        above = n - at_most[upper]
        best = np.lexsort((lower, np.abs(below[lower] - above), held))[0]
        return cls(
            level=level,
            lower_q=float(values[lower[best]]) - ROUND_TRIP,
            upper_q=float(values[upper[best]]) + ROUND_TRIP,
            n=n,
        )

    def apply(self, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        base = np.log1p(np.clip(forecast, 0, None))
        return (np.clip(np.expm1(base + self.lower_q), 0, None), np.expm1(base + self.upper_q))


def latest_origins(folds: list[int], window: int | None) -> list[int]:
    """The calibration folds a window keeps: the latest `window` of `folds` (given oldest first), or
    all of them when `window` is None."""
    return folds if window is None else folds[-window:]


def least_residuals(level: float, minimum: int = MIN_BAND_RESIDUALS) -> int:
    """The fewest residuals a size band needs: `minimum`, and never fewer than make both
    finite-sample quantiles interior at this level."""
    return max(minimum, math.ceil(2 / (1 - level) - 1 - 1e-9))


def size_edges(size: np.ndarray, bands: int) -> tuple[float, ...]:
    """The `bands - 1` inner edges between size bands: quantiles of the known sizes."""
    known = size[np.isfinite(size)]
    if bands <= 1 or not len(known):
        return ()
    return tuple(float(e) for e in np.quantile(known, np.arange(1, bands) / bands))


def band_of(size: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    """Each row's size band, 0 for the smallest; -1 where the size is unknown."""
    size = np.asarray(size, dtype=float)
    return np.where(np.isfinite(size), np.searchsorted(np.asarray(edges, dtype=float), size, side="right"), -1)


@dataclass(frozen=True)
class MondrianBand:
    """The interval bands of one horizon: one per size band, the edges between them, and the pooled
    band used by rows of unknown size and by size bands with too few residuals (`fallback`)."""

    level: float
    edges: tuple[float, ...]
    bands: tuple[ConformalBand, ...]
    fallback: tuple[bool, ...]
    pooled: ConformalBand

    @classmethod
    def fit(
        cls,
        residuals: np.ndarray,
        size: np.ndarray,
        *,
        level: float,
        bands: int = SIZE_BANDS,
        min_residuals: int = MIN_BAND_RESIDUALS,
    ) -> MondrianBand:
        finite = np.isfinite(residuals)
        residuals, size = residuals[finite], np.asarray(size, dtype=float)[finite]
        pooled = ConformalBand.fit(residuals, level=level)
        least = least_residuals(level, min_residuals)
        edges = size_edges(size, max(1, min(bands, int(np.isfinite(size).sum()) // least)))
        index = band_of(size, edges)
        own = [residuals[index == b] for b in range(len(edges) + 1)]
        fallback = tuple(len(r) < least for r in own)
        fitted = tuple(
            pooled if fell else ConformalBand.fit(r, level=level) for r, fell in zip(own, fallback, strict=True)
        )
        return cls(level=level, edges=edges, bands=fitted, fallback=fallback, pooled=pooled)

    def apply(self, forecast: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) for forecasts of areas of the given sizes."""
        forecast = np.asarray(forecast, dtype=float)
        index = band_of(size, self.edges)
        lower, upper = np.full(len(forecast), np.nan), np.full(len(forecast), np.nan)
        for b, band in enumerate((self.pooled, *self.bands), start=-1):
            rows = index == b
            if rows.any():
                lower[rows], upper[rows] = band.apply(forecast[rows])
        return lower, upper


def calibrate_by_horizon(
    residuals: pd.DataFrame, *, level: float, bands: int = SIZE_BANDS, min_residuals: int = MIN_BAND_RESIDUALS
) -> dict[int, MondrianBand]:
    """Bands per horizon from a frame with columns horizon, residual and size."""
    return {
        int(h): MondrianBand.fit(
            g["residual"].to_numpy(float),
            g["size"].to_numpy(float),
            level=level,
            bands=bands,
            min_residuals=min_residuals,
        )
        for h, g in residuals.groupby(HORIZON)
    }
