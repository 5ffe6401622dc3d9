"""The forecast ledger in the tracking store. Append-only by construction: nothing here updates or
deletes a run or an artifact.

- A forecast run carries its ledger rows as one artifact, `ledger/entries.parquet`. Each forecast
  run is one vintage; re-publishing an origin adds a run and so a new vintage.
- A score run (workbench.run_type = score) holds the scored rows of one forecast vintage against one
  vintage of the actuals, `ledger/scored.parquet`, and per-period metrics stepped by period. It
  counts only once its last act, the tag `ledger.complete`, is set after the single artifact upload,
  so an interrupted score leaves nothing a reader would take as done.
- A monitor run records drift and the review decision; the decision also goes on the model version
  as `monitoring.*` tags.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.entities import Metric, Run
from mlflow.exceptions import MlflowException

from workbench.data.contract import AREA, HORIZON, ORIGIN, TARGET_PERIOD
from workbench.interrupt import deferred, failpoint, raise_pending
from workbench.ledger.drift import DriftCheck
from workbench.ledger.record import Monitoring
from workbench.ledger.review import ReviewDecision
from workbench.tracking.quiet import quiet
from workbench.tracking.registry import client as registry_client

ENTRIES = "ledger/entries.parquet"
SCORED = "ledger/scored.parquet"
COMPLETE = "ledger.complete"
RUN_TYPE = "workbench.run_type"


def log_entries(entries: pd.DataFrame) -> None:
    """Inside the active forecast run: the ledger rows of this forecast, as one artifact."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "entries.parquet"
        entries.to_parquet(path, index=False)
        mlflow.set_tags({"ledger.origin": ",".join(sorted(entries[ORIGIN].unique())), "ledger.rows": len(entries)})
        mlflow.log_artifact(str(path), artifact_path="ledger")


def _experiment_id(name: str) -> str | None:
    experiment = registry_client().get_experiment_by_name(name)
    return experiment.experiment_id if experiment else None


def _runs(name: str, run_type: str) -> list[Run]:
    experiment_id = _experiment_id(name)
    if experiment_id is None:
        return []
    return registry_client().search_runs(
        [experiment_id],
        filter_string=f"tags.`{RUN_TYPE}` = '{run_type}' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time ASC"],
        max_results=50000,
    )


def _artifact(run_id: str, path: str) -> pd.DataFrame | None:
    with quiet(), tempfile.TemporaryDirectory() as tmp:
        try:
            local = registry_client().download_artifacts(run_id, path, tmp)
        except (MlflowException, OSError):
            return None
        return pd.read_parquet(local)


def read_entries(name: str) -> pd.DataFrame:
    """Every ledger row of every finished forecast run, with `forecast_run_id` and `vintage`: 1 for
    the first forecast of a (model version, origin), 2 for the next, and so on."""
    frames = []
    for run in _runs(name, "forecast"):
        entries = _artifact(run.info.run_id, ENTRIES)
        if entries is not None:
            frames.append(entries.assign(forecast_run_id=run.info.run_id, started=run.info.start_time))
    if not frames:
        return pd.DataFrame()
    ledger = pd.concat(frames, ignore_index=True)
    firsts = ledger.drop_duplicates("forecast_run_id").sort_values(["started", "forecast_run_id"])
    firsts["vintage"] = firsts.groupby(["model_version", ORIGIN]).cumcount() + 1
    return ledger.merge(firsts[["forecast_run_id", "vintage"]], on="forecast_run_id").drop(columns="started")


def read_scored(name: str) -> pd.DataFrame:
    """Every scored row of every completed score run (all actuals vintages kept)."""
    frames = []
    for run in _runs(name, "score"):
        if run.data.tags.get(COMPLETE) != "true":
            continue
        scored = _artifact(run.info.run_id, SCORED)
        if scored is not None:
            frames.append(scored.assign(score_run_id=run.info.run_id))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def scored_pairs(name: str) -> set[tuple[str, str]]:
    """(forecast run, actuals digest) pairs already scored, read from the completed runs' tags."""
    return {
        (r.data.tags["ledger.forecast_run_id"], r.data.tags["actuals.digest"])
        for r in _runs(name, "score")
        if r.data.tags.get(COMPLETE) == "true"
    }


def _period_step(period: str) -> int:
    return int(pd.Period(period).ordinal)


def record_score(
    name: str,
    *,
    scored: pd.DataFrame,
    metrics: pd.DataFrame,
    groups: pd.DataFrame,
    tags: dict[str, str],
    model_id: str | None = None,
) -> str:
    """One score run: metrics stepped by target period (linked to the logged model when known), the
    scored rows in one upload, then the tag that marks it complete."""
    client = registry_client()
    now = int(datetime.now(UTC).timestamp() * 1000)
    values = [
        Metric(f"live.{k}", float(row[k]), now, _period_step(row[TARGET_PERIOD]))
        for _, row in metrics.iterrows()
        for k in ("mae", "wape", "mape", "bias", "coverage", "above_rate", "wis")
        if pd.notna(row[k])
    ]
    values += [
        Metric(_metric_name(f"live.bias.{g.grouping}.{g.group}"), float(g.bias), now, _period_step(g.target_period))
        for g in groups.itertuples(index=False)
        if pd.notna(g.bias)
    ]
    with (
        quiet(),
        mlflow.start_run(
            experiment_id=_experiment_id(name),
            run_name=f"score {tags['ledger.origin']} v{tags['ledger.vintage']} vs actuals {tags['actuals.digest'][:8]}",
            tags={RUN_TYPE: "score", **tags},
        ) as run,
    ):
        for start in range(0, len(values), 900):
            client.log_batch(run.info.run_id, metrics=values[start : start + 900])
        if model_id:
            _link_to_model(metrics, model_id)
        failpoint("score_run")
        with tempfile.TemporaryDirectory() as tmp:
            scored.to_parquet(Path(tmp) / "scored.parquet", index=False)
            metrics.to_csv(Path(tmp) / "period_metrics.csv", index=False)
            groups.to_csv(Path(tmp) / "group_bias.csv", index=False)
            mlflow.log_artifacts(tmp, artifact_path="ledger")
        failpoint("score_complete")
        mlflow.set_tag(COMPLETE, "true")
    return str(run.info.run_id)


def _link_to_model(metrics: pd.DataFrame, model_id: str) -> None:
    """The same per-period figures on the logged model, so they show against the model version."""
    for _, row in metrics.iterrows():
        mlflow.log_metrics(
            {f"live.{k}": float(row[k]) for k in ("wape", "bias", "coverage", "wis") if pd.notna(row[k])},
            step=_period_step(row[TARGET_PERIOD]),
            model_id=model_id,
        )


def _metric_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-/ " else "_" for ch in text)


def fold_wapes(run_id: str, horizon: int = 1) -> list[float]:
    """The backtest's per-origin WAPE of a candidate run (the expectation for live errors)."""
    history = registry_client().get_metric_history(run_id, f"fold.wape.h{horizon}")
    return [m.value for m in sorted(history, key=lambda m: m.step)]


def record_monitoring(
    name: str,
    *,
    version: str,
    psi: pd.DataFrame,
    checks: list[DriftCheck],
    decision: ReviewDecision,
    tags: dict[str, str],
) -> str:
    """A monitor run with the drift figures, then the decision on the model version, with signals
    held while the tags are written so they are never half-set."""
    with (
        quiet(),
        mlflow.start_run(
            experiment_id=_experiment_id(name), run_name=f"monitor v{version}", tags={RUN_TYPE: "monitor", **tags}
        ) as run,
    ):
        mlflow.log_metrics(
            {_metric_name(f"drift.psi.{r.feature}"): float(r.psi) for r in psi.itertuples() if pd.notna(r.psi)}
        )
        mlflow.log_dict(
            {
                "review": decision.review,
                "reasons": list(decision.reasons),
                "psi": psi.to_dict(orient="records"),
                "checks": [c.__dict__ | {"outside": c.outside} for c in checks],
            },
            "monitoring/drift.json",
        )
    at = datetime.now(UTC).isoformat(timespec="seconds")
    client = registry_client()
    with deferred() as held:
        for key, value in {
            "monitoring.review": str(decision.review).lower(),
            "monitoring.reasons": "; ".join(decision.reasons)[:5000],
            "monitoring.checked_at": at,
            "monitoring.run_id": run.info.run_id,
        }.items():
            client.set_model_version_tag(name, version, key, value)
    raise_pending(held)
    return str(run.info.run_id)


def read_monitoring(name: str, version: str) -> Monitoring:
    """What the ledger says now: the latest scored vintage of each forecast and the review flag."""
    scored = read_scored(name)
    try:
        tags = registry_client().get_model_version(name, version).tags
    except MlflowException:
        tags = {}
    latest = _latest(scored)
    recorded = len({r.info.run_id for r in _runs(name, "forecast")})
    return Monitoring(
        scored=latest,
        review=tags.get("monitoring.review") == "true",
        reasons=tuple(r for r in tags.get("monitoring.reasons", "").split("; ") if r),
        checked_at=tags.get("monitoring.checked_at", ""),
        forecasts_recorded=recorded,
        forecasts_scored=int(scored[["forecast_run_id", "actuals_digest"]].drop_duplicates().shape[0])
        if len(scored)
        else 0,
    )


def _latest(scored: pd.DataFrame) -> pd.DataFrame:
    """For each area and target period, the row from the latest forecast vintage scored against the
    latest actuals vintage (score runs are read oldest first)."""
    if scored.empty:
        return scored
    ordered = scored.sort_values([HORIZON, "vintage"], ascending=[False, True], kind="stable")
    return ordered.drop_duplicates([AREA, TARGET_PERIOD], keep="last").reset_index(drop=True)


__all__ = [
    "fold_wapes",
    "log_entries",
    "read_entries",
    "read_monitoring",
    "read_scored",
    "record_monitoring",
    "record_score",
    "scored_pairs",
]
