"""What `workbench compare` reads from MLflow about one registered version, and where it writes the
comparison back: a plain record per version, so the comparison itself never talks to MLflow."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException

from workbench.data.contract import AREA
from workbench.errors import WorkbenchError
from workbench.tracking.quiet import quiet
from workbench.tracking.registry import CHAMPION, REPORT, _version, client

ARTIFACT = "review/compare_champion.md"


@dataclass(frozen=True)
class VersionRecord:
    name: str
    version: str
    run_id: str  # the training (parent) run
    run_name: str
    winner: str
    verdict: str
    reasons: list[str]
    metrics: dict[str, float]
    disparities: pd.DataFrame  # the winner's audit judgements
    concepts: pd.DataFrame  # concept, mean_abs_value: the winner's global drivers
    top_drivers: pd.Series  # per area: the winner's top driver of its forecast


def _csv(run_id: str, path: str) -> pd.DataFrame:
    try:
        with quiet():
            return pd.read_csv(io.StringIO(mlflow.artifacts.load_text(f"runs:/{run_id}/{path}")))
    except (MlflowException, OSError):
        return pd.DataFrame()


def read_version(name: str, version: str | None = None) -> VersionRecord:
    """A registered version (the latest when `version` is None) as the comparison needs it."""
    c = client()
    if version is None:
        versions = c.search_model_versions(f"name='{name}'")
        if not versions:
            raise WorkbenchError(f"'{name}' has no registered versions; run `make train EXP=...` first")
        version = str(max(int(v.version) for v in versions))
    model_version = _version(c, name, str(version))
    run_id = model_version.tags.get("gate.report_run_id") or model_version.run_id
    if not run_id:
        raise WorkbenchError(
            f"version {version} of '{name}' has no training run; it was not registered by the workbench"
        )
    run = c.get_run(run_id)
    with quiet():
        report = json.loads(mlflow.artifacts.load_text(f"runs:/{run_id}/{REPORT}"))
    winner = run.data.tags.get("winner", "")
    disparities = _csv(run_id, "audit/audit_disparities.csv")
    if "candidate" in disparities:
        disparities = disparities[disparities["candidate"] == winner]
    winner_run = run.data.tags.get("winner_run_id", model_version.run_id or run_id)
    drivers = _csv(run_id, "explanations/winner_drivers.csv")
    top = drivers.set_index(AREA)["driver_1"] if {AREA, "driver_1"} <= set(drivers) else pd.Series()
    return VersionRecord(
        name,
        str(version),
        run_id,
        run.info.run_name or "",
        winner,
        report.get("verdict", ""),
        list(report.get("reasons", [])),
        dict(run.data.metrics),
        disparities,
        _csv(winner_run, "explanations/importance_concepts.csv"),
        top,
    )


def champion_version(name: str) -> str | None:
    try:
        return str(client().get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None


def log_comparison(run_id: str, text: str) -> str:
    """The comparison as an artifact of the compared version's training run; returns its URI."""
    with quiet():
        client().log_text(run_id, text, ARTIFACT)
    return f"runs:/{run_id}/{ARTIFACT}"
