"""`make score`: match the actuals of a newer panel to every ledger entry they resolve, score them,
and watch the champion for drift.

experiment -> panel (the newer data) -> ledger entries (tracking) -> pairs not yet scored
-> scores per (forecast vintage, actuals vintage) -> record each as a score run
-> input and performance drift of the champion -> review decision -> record it.
Running it again with the same panel finds every pair scored and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from rich.console import Console

from workbench.config import Experiment, load_experiment
from workbench.data.contract import ACTUAL, AREA, ORIGIN, PERIOD, TARGET_PERIOD, Panel
from workbench.data.load import load_panel
from workbench.featurize import build_feature_table
from workbench.ledger import (
    ReviewDecision,
    actuals_digest,
    decide_review,
    group_bias,
    performance_check,
    period_metrics,
    psi_table,
    score_entries,
)
from workbench.ledger.scores import actuals_for
from workbench.tracking.champion import ChampionModel, load_champion
from workbench.tracking.ledger import fold_wapes, read_entries, record_monitoring, record_score, scored_pairs


@dataclass(frozen=True)
class ScoreOutcome:
    scored: list[tuple[str, str, pd.DataFrame]]  # (forecast run, actuals digest, period metrics)
    already: int  # pairs found scored before
    waiting: int  # forecast vintages whose actuals are not published yet
    decision: ReviewDecision | None


def training_last_period(champion: ChampionModel) -> str:
    return champion.trained_on.split("up to ")[-1]


def input_drift(champion: ChampionModel, panel: Panel) -> pd.DataFrame:
    """PSI of each feature at the latest origin after the training data, against the rows the
    champion was trained on; calendar features are left out. Empty until the panel goes past the
    training data."""
    trained = champion.trained
    table = build_feature_table(
        panel,
        target=trained.target,
        builders=trained.features,
        horizons=trained.horizons,
        reference_windows=trained.reference_windows(),
    )
    cutoff = pd.Period(training_last_period(champion), freq=panel.spec.frequency.value)
    frame = table.frame
    reference = frame[(frame[TARGET_PERIOD] <= cutoff) & frame[ACTUAL].notna()]
    live = frame[(frame[ORIGIN] > cutoff) & (frame[ORIGIN] == frame[ORIGIN].max())]
    if live.empty:
        return pd.DataFrame(columns=["feature", "psi", "train_rows", "live_rows"])
    return psi_table(reference, live, [f for f in table.feature_names if f not in _calendar_features(champion, panel)])


def _calendar_features(champion: ChampionModel, panel: Panel) -> set[str]:
    """Features known in advance (season, structural-break windows): their shift is planned, not drift."""
    trained = champion.trained
    return {
        info.name
        for builder in trained.features
        if type(builder).__module__ == "features.calendar"
        for info in builder.infos(panel.spec, trained.target)
    }


def run_score(experiment_path: Path, *, console: Console) -> ScoreOutcome:
    experiment = load_experiment(experiment_path)
    name = experiment.name
    with console.status("Reading the ledger"):
        entries = read_entries(name)
    if entries.empty:
        console.print(f"The ledger of '{name}' is empty: publish a forecast with `make forecast` first.")
        return ScoreOutcome([], 0, 0, None)
    with console.status("Loading the newer panel"):
        panel = load_panel(experiment.data)
    actuals = actuals_for(panel.frame, experiment.target)
    done = scored_pairs(name)
    scored, already, waiting = [], 0, 0
    for run_id, vintage in entries.groupby("forecast_run_id", sort=False):
        digest = actuals_digest(vintage, actuals)
        if digest is None:
            waiting += 1
            continue
        if (run_id, digest) in done:
            already += 1
            continue
        rows = score_entries(vintage, actuals).assign(
            actuals_digest=digest,
            actuals_source=panel.source,
            panel_digest=panel.digest(),
            scored_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        metrics, groups = period_metrics(rows), group_bias(rows)
        first = rows.iloc[0]
        record_score(
            name,
            scored=rows,
            metrics=metrics,
            groups=groups,
            tags={
                "ledger.forecast_run_id": str(run_id),
                "ledger.origin": str(first[ORIGIN]),
                "ledger.vintage": str(first["vintage"]),
                "actuals.digest": digest,
                "actuals.source": panel.source[:500],
                "data.digest": panel.digest(),
                "model.name": str(first["model_name"]),
                "model.version": str(first["model_version"]),
            },
        )
        scored.append((str(run_id), digest, metrics))
    decision = _monitor(name, experiment, panel, console) if scored else None
    return ScoreOutcome(scored, already, waiting, decision)


def _monitor(name: str, experiment: Experiment, panel: Panel, console: Console) -> ReviewDecision:
    from workbench.tracking.ledger import read_scored

    with console.status("Checking the champion for drift"):
        champion = load_champion(experiment)
        psi = input_drift(champion, panel)
        mine = read_scored(name)
        mine = mine[mine["model_version"] == champion.version]
        latest = mine.sort_values("vintage").drop_duplicates([AREA, TARGET_PERIOD], keep="last")
        checks = performance_check(
            period_metrics(latest) if len(latest) else pd.DataFrame(),
            fold_wapes=fold_wapes(champion.run_id, min(champion.trained.horizons)),
            backtest_coverage=champion.metrics.get("coverage", float("nan")),
        )
        decision = decide_review(psi, checks)
        record_monitoring(
            name,
            version=champion.version,
            psi=psi,
            checks=checks,
            decision=decision,
            tags={
                "model.name": name,
                "model.version": champion.version,
                "data.digest": panel.digest(),
                "data.last_period": str(panel.frame[PERIOD].max()),
            },
        )
    return decision
