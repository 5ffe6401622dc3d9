"""How many recent origins should calibrate the intervals? The study behind
`backtest.interval_calibration_origins` (`make calibration-study`).

Split conformal calibration assumes the residuals it calibrates on are exchangeable with those it
covers; over years they drift. The study takes the three real panels of `make compare` with the most
areas,
runs the workbench's backtest on each with more and more origins, and recalibrates every candidate's
backtest rows with windows of the latest 2, 3, 4 and 6 origins and with every earlier origin. For
each it reports the largest gap between nominal coverage and coverage in a quintile of area size (as
known at the origin), for the model the selection picks and averaged over every candidate. The
point forecasts are the same in every column; only the calibration differs. Writes
outputs/compare/calibration_window.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.backtest import calibrate_folds
from workbench.compare import BANDS, LEVEL, TASKS, Task, TaskBacktest, backtest_task
from workbench.intervals import CALIBRATION_ORIGINS
from workbench.metrics import size_band_coverage
from workbench.selection import SelectionRule

WINDOWS: tuple[int | None, ...] = (None, 2, 3, 4, 6)
STUDIES: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("county_murders", (4, 8)),
    ("gapminder", (8, 12, 16, 20)),
    ("us_diseases_five", (5, 8)),
)


def worst_gap(rows: pd.DataFrame) -> float:
    """The largest distance from nominal coverage over quintiles of size, on the calibrated rows."""
    judged = rows.dropna(subset=["lower"])
    return float(size_band_coverage(judged, level=LEVEL, bands=BANDS).get("coverage_gap", np.nan))


def recalibrate(rows: pd.DataFrame, done: TaskBacktest, window: int | None) -> pd.DataFrame:
    """A candidate's backtest rows calibrated as the backtest calibrates them, but on `window` origins."""
    result = done.result
    return calibrate_folds(
        rows,
        done.folds,
        level=result.level,
        min_folds=result.min_calibration_folds,
        size_bands=result.size_bands,
        min_band_residuals=result.min_band_residuals,
        window=window,
    )


def study(task: Task, origins: int, folder: Path) -> dict[str, object]:
    """One panel at one number of origins: the worst size-quintile gap per window."""
    done = backtest_task(replace(task, origins=origins), folder, SelectionRule())
    predictions = done.result.predictions.drop(columns=["lower", "upper"])
    gaps: dict[str, dict[int | None, float]] = {}
    for candidate, rows in predictions.groupby("candidate", sort=False):
        gaps[str(candidate)] = {w: worst_gap(recalibrate(rows, done, w)) for w in WINDOWS}
    winner = done.selection.winner
    calibrated_rows = int(done.result.predictions.query("candidate == @winner")["lower"].notna().sum())
    return {
        "panel": task.name,
        "origins": origins,
        "winner": winner,
        "rows_per_quintile": calibrated_rows // BANDS,
        "selected": gaps[winner],
        "mean": {w: float(np.mean([g[w] for g in gaps.values()])) for w in WINDOWS},
    }


def _label(window: int | None) -> str:
    return "every origin" if window is None else f"latest {window}"


def markdown(results: Sequence[dict[str, object]]) -> str:
    selected_head = " | ".join(f"selected model, {_label(w)}" for w in WINDOWS)
    mean_head = " | ".join(f"mean of every candidate, {_label(w)}" for w in WINDOWS)
    lines = [
        "# Calibration window: how many recent origins calibrate the intervals",
        "",
        f"Largest gap, in points, between the nominal {LEVEL:.0%} and the coverage in a quintile of area size "
        "(size as known at the origin), on the backtest folds with intervals, by the origins the calibration "
        "uses: every earlier origin known at the fold's origin, or only the latest 2, 3, 4 or 6 of them. "
        f"The point forecasts are the same in every column. The workbench's default is the latest {CALIBRATION_ORIGINS}.",
        "",
        f"| panel | origins | rows per quintile | selected model | {selected_head} | {mean_head} |",
        "| --- | --- | --- | --- | " + " | ".join(["---"] * 2 * len(WINDOWS)) + " |",
    ]
    for r in results:
        selected = " | ".join(f"{100 * r['selected'][w]:.1f}" for w in WINDOWS)  # type: ignore[index]
        mean = " | ".join(f"{100 * r['mean'][w]:.1f}" for w in WINDOWS)  # type: ignore[index]
        lines.append(
            f"| {r['panel']} | {r['origins']} | {r['rows_per_quintile']} | {r['winner']} | {selected} | {mean} |"
        )
    return "\n".join(lines) + "\n"


def calibration_study(out: Path = Path("outputs/compare")) -> Path:
    by_name = {t.name: t for t in TASKS}
    results = [study(by_name[name], n, out) for name, counts in STUDIES for n in counts]
    out.mkdir(parents=True, exist_ok=True)
    path = out / "calibration_window.md"
    path.write_text(markdown(results))
    return path
