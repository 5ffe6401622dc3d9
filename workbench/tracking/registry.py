"""The model registry: every winner becomes a version of the experiment's registered model; the
`champion` alias moves only when the gate passes, here and nowhere else."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from datetime import UTC, datetime

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from workbench.errors import WorkbenchError
from workbench.gate import Approval, Champion, Decision, Evidence, evaluate

CHAMPION = "champion"
CHALLENGER = "challenger"
REPORT = "gate/gate_report.json"


class GateRefused(WorkbenchError):
    """A promotion the gate does not allow; the reasons are in the message."""

    exit_code = 3


def champion_of(client: MlflowClient, name: str) -> Champion | None:
    try:
        version = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None
    value = version.tags.get("backtest.value")
    return Champion(
        version=str(version.version), value=float(value) if value else None, data_digest=version.tags.get("data.digest")
    )


def approval_of(client: MlflowClient, name: str, version: str) -> Approval | None:
    tags = client.get_model_version(name, version).tags
    if "approval.by" not in tags:
        return None
    return Approval(by=tags["approval.by"], note=tags.get("approval.note", ""), at=tags.get("approval.at", ""))


def _record(client: MlflowClient, name: str, version: str, decision: Decision) -> None:
    tags = {
        "gate.verdict": decision.verdict,
        "gate.decided_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "gate.reasons": " | ".join(decision.reasons)[:4900] or "none",
    }
    tags |= {f"gate.{c.name}": "pass" if c.passed else ("fail" if c.blocking else "noted") for c in decision.checks}
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    if decision.passed:
        client.set_registered_model_alias(name, CHAMPION, version)
        try:
            if str(client.get_model_version_by_alias(name, CHALLENGER).version) == str(version):
                client.delete_registered_model_alias(name, CHALLENGER)
        except MlflowException:
            pass
    else:
        client.set_registered_model_alias(name, CHALLENGER, version)


def register(
    client: MlflowClient, *, name: str, model_uri: str, run_id: str, parent_run_id: str, decide
) -> tuple[str, Decision]:
    """Register the winner, decide with `decide(champion, approval=None)`, tag and alias the version."""
    champion = champion_of(client, name)
    decision: Decision = decide(champion, None)
    version = mlflow.register_model(model_uri=model_uri, name=name).version
    evidence = decision.evidence
    for key, value in {
        "candidate": evidence.candidate,
        "git.commit": evidence.commit,
        "git.dirty": str(evidence.dirty).lower(),
        "config.hash": evidence.config_hash,
        "data.digest": evidence.data_digest,
        "backtest.metric": evidence.metric,
        "backtest.value": f"{evidence.value:.6g}",
        "run_id": run_id,
        "gate.report_run_id": parent_run_id,
    }.items():
        client.set_model_version_tag(name, str(version), key, value)
    _record(client, name, str(version), decision)
    return str(version), decision


@contextmanager
def _no_progress_bar():
    previous = os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR")
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", None)
        else:
            os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = previous


def _version(client: MlflowClient, name: str, version: str):
    try:
        return client.get_model_version(name, version)
    except MlflowException:
        try:
            known = sorted(int(v.version) for v in client.search_model_versions(f"name='{name}'"))
        except MlflowException:
            known = []
        raise WorkbenchError(
            f"version {version} of registered model '{name}' does not exist; versions: "
            f"{', '.join(map(str, known)) or 'none (run make train first)'}"
        ) from None


def promote(client: MlflowClient, *, name: str, version: str) -> Decision:
    """Re-check the gate for `version` with today's champion and approvals; move `champion` only if it passes."""
    model_version = _version(client, name, version)
    report_run = model_version.tags.get("gate.report_run_id")
    if not report_run:
        raise WorkbenchError(
            f"version {version} of '{name}' has no gate report; it was not registered by the workbench"
        )
    with _no_progress_bar():
        report = json.loads(mlflow.artifacts.load_text(f"runs:/{report_run}/{REPORT}"))
    champion = champion_of(client, name)
    if champion and champion.version == str(version):
        raise WorkbenchError(f"version {version} of '{name}' is already the champion")
    settings = report["settings"]
    decision = evaluate(
        Evidence(**report["evidence"]), champion=champion, approval=approval_of(client, name, version), **settings
    )
    _record(client, name, str(version), decision)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    client.log_text(report_run, decision.to_json(), f"gate/promote_v{version}_{stamp}.json")
    if not decision.passed:
        raise GateRefused(
            f"version {version} of '{name}' was not promoted:\n" + "\n".join(f"- {r}" for r in decision.reasons)
        )
    return decision


def approve(client: MlflowClient, *, name: str, version: str, by: str, note: str) -> Approval:
    if not by.strip() or not note.strip():
        raise WorkbenchError("an approval needs a name (--by) and a note saying why (--note)")
    _version(client, name, version)
    approval = Approval(by=by.strip(), note=note.strip(), at=datetime.now(UTC).isoformat(timespec="seconds"))
    for key, value in {"approval.by": approval.by, "approval.note": approval.note, "approval.at": approval.at}.items():
        client.set_model_version_tag(name, version, key, value)
    return approval
