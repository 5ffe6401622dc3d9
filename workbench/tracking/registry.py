"""The model registry: every winner becomes a version of the experiment's registered model, and the
`champion` alias moves only on a passing decision.

Three guarantees live here:
- **one registered model, one contract**: the target, frequency, horizons and area-code pattern are
  tags of the registered model; a run with another contract is refused before anything is logged;
- **compare-and-set**: the champion is read, the gate decides and the alias moves under one lock
  per registered model (a file lock beside a local store; a lease tag on a server store);
- **facts, not files**: the evidence the gate judged is digested into an immutable run parameter
  when the run is made; `promote` refuses a report whose digest no longer matches.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
from mlflow.entities.model_registry import ModelVersion, RegisteredModel
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from workbench.errors import ConfigError, WorkbenchError
from workbench.gate import Approval, Champion, Decision, Evidence, evaluate
from workbench.interrupt import deferred, failpoint, raise_pending
from workbench.record import LoggedRuns
from workbench.tracking.quiet import quiet
from workbench.tracking.server import compare_and_set_champion, current_user, is_server
from workbench.tracking.store import PROJECT_ROOT, tracking_uri

CHAMPION = "champion"
CHALLENGER = "challenger"
REPORT = "gate/gate_report.json"
EVIDENCE_DIGEST = "gate.evidence_sha256"
LEASE_TAG = "lock.holder"
LEASE_SECONDS = 60


class ChampionMoved(WorkbenchError):
    """The champion changed between the decision and the move (server compare-and-set)."""

    def __init__(self, current: str | None):
        super().__init__(f"the champion moved to version {current} before this promotion could move it")
        self.current = current


class GateRefused(WorkbenchError):
    """A promotion the gate does not allow; the reasons are in the message."""

    exit_code = 3


def evidence_digest(evidence: Mapping[str, object], settings: Mapping[str, object]) -> str:
    """SHA-256 of the evidence and the gate settings, in a canonical JSON form."""
    canonical = json.dumps({"evidence": evidence, "settings": settings}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def client() -> MlflowClient:
    """A client for the current tracking store, made once per store and process (making one checks
    the store's schema, which takes a second)."""
    mlflow.set_tracking_uri(tracking_uri())
    return _client_for(tracking_uri())


@functools.lru_cache(maxsize=4)
def _client_for(uri: str) -> MlflowClient:
    return MlflowClient(uri)


def _registered(c: MlflowClient, name: str) -> RegisteredModel | None:
    try:
        return c.get_registered_model(name)
    except MlflowException:
        return None


def check_contract(c: MlflowClient, name: str, contract: dict[str, str], *, source: str = "experiment") -> None:
    """Refuse a run whose contract differs from the registered model's (target, frequency, horizons, pattern)."""
    model = _registered(c, name)
    if model is None:
        return
    recorded = {k.removeprefix("contract."): v for k, v in model.tags.items() if k.startswith("contract.")}
    differs = {k: (recorded[k], v) for k, v in contract.items() if k in recorded and recorded[k] != v}
    if differs:
        detail = "; ".join(f"{k} is '{old}' there but '{new}' here" for k, (old, new) in differs.items())
        raise ConfigError(
            f"{source}: registered model '{name}' has another contract ({detail}). A registered model holds one "
            f"contract: give this experiment its own name (name: {name}_{contract.get('target', 'v2')})"
        )


def champion_of(c: MlflowClient, name: str) -> Champion | None:
    """The champion as its immutable run parameters record it (not its editable version tags)."""
    try:
        version = c.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None
    report_run = version.tags.get("gate.report_run_id")
    params = c.get_run(report_run).data.params if report_run else {}
    value = params.get("gate.metric_value")
    return Champion(
        version=str(version.version),
        value=float(value) if value else None,
        data_digest=params.get("gate.data_digest") or version.tags.get("data.digest"),
    )


def approval_of(c: MlflowClient, name: str, version: str) -> Approval | None:
    tags = c.get_model_version(name, version).tags
    if "approval.by" not in tags:
        return None
    return Approval(by=tags["approval.by"], note=tags.get("approval.note", ""), at=tags.get("approval.at", ""))


def _record(c: MlflowClient, name: str, version: str, decision: Decision, *, promoting: bool = False) -> None:
    """Tag the version with the decision and move the aliases. On a team server a training run does
    not move `champion`: a passing version waits as `challenger` for an approver's `promote`, and
    the promotion moves the alias by compare-and-set on the server."""
    on_server = is_server()
    tags = {
        "gate.verdict": decision.verdict,
        "gate.decided_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "gate.reasons": " | ".join(decision.reasons)[:4900] or "none",
    }
    tags |= {f"gate.{ch.name}": "pass" if ch.passed else ("fail" if ch.blocking else "noted") for ch in decision.checks}
    if on_server and decision.passed and not promoting:
        tags["gate.awaiting"] = "an approver's promote"
    for key, value in tags.items():
        c.set_model_version_tag(name, version, key, value)
    if decision.passed and on_server and not promoting:
        c.set_registered_model_alias(name, CHALLENGER, version)
    elif decision.passed and on_server:
        swap = compare_and_set_champion(
            name, expected=decision.champion.version if decision.champion else None, version=version
        )
        if not swap.swapped:
            raise ChampionMoved(swap.current)
        with suppress(MlflowException):
            if str(c.get_model_version_by_alias(name, CHALLENGER).version) == str(version):
                c.delete_registered_model_alias(name, CHALLENGER)
    elif decision.passed:
        c.set_registered_model_alias(name, CHAMPION, version)
        try:
            if str(c.get_model_version_by_alias(name, CHALLENGER).version) == str(version):
                c.delete_registered_model_alias(name, CHALLENGER)
        except MlflowException:
            pass
    else:
        c.set_registered_model_alias(name, CHALLENGER, version)


def _lock_path(name: str) -> Path | None:
    uri = tracking_uri()
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(uri.removeprefix("sqlite:///"))
    database = database if database.is_absolute() else PROJECT_ROOT / database
    return database.with_name(f".{database.name}.{hashlib.sha256(name.encode()).hexdigest()[:12]}.lock")


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lease_holder(c: MlflowClient, name: str) -> str:
    model = _registered(c, name)
    return model.tags.get(LEASE_TAG, "") if model is not None else ""


@contextmanager
def _lease(c: MlflowClient, name: str, *, timeout: float = 300.0) -> Iterator[None]:
    """A lease on a server store: the holder writes its id into a registered-model tag, waits, and
    holds the lease only if its id is still there; a lease expires after LEASE_SECONDS."""
    me = f"{uuid.uuid4().hex}:{os.getpid()}"
    deadline = time.monotonic() + timeout
    while True:
        holder = _lease_holder(c, name)
        held_by, _, until = holder.rpartition("@")
        if not held_by or float(until or 0) < time.time():
            c.set_registered_model_tag(name, LEASE_TAG, f"{me}@{time.time() + LEASE_SECONDS:.0f}")
            time.sleep(0.5)
            if _lease_holder(c, name).startswith(me):
                break
        if time.monotonic() > deadline:
            raise WorkbenchError(f"could not take the lock on '{name}' within {timeout:.0f} s: another run holds it")
        time.sleep(1.0)
    try:
        yield
    finally:
        c.delete_registered_model_tag(name, LEASE_TAG)


@dataclass
class Registry:
    """The registered model of one experiment, held under its lock (see `champion_lock`)."""

    client: MlflowClient
    name: str
    contract: dict[str, str]

    def champion(self) -> Champion | None:
        return champion_of(self.client, self.name)

    def register(self, logged: LoggedRuns, decision: Decision) -> str:
        """A new version for the winner, tagged and aliased as the decision says. Call it with signals
        deferred (see `workbench.interrupt.deferred`); an error part-way deletes the version, so no
        bare untagged version is left."""
        evidence = decision.evidence
        winner = evidence.candidate
        with quiet():
            uri = logged.model_uris[winner]
            created = self.client.create_model_version(
                self.name,
                uri,
                run_id=logged.child_run_ids[winner],
                model_id=uri.removeprefix("models:/") if uri.startswith("models:/m-") else None,
            )
            version = str(created.version)
            failpoint("registration")
            try:
                tags = {
                    "candidate": winner,
                    "git.commit": evidence.commit,
                    "git.dirty": str(evidence.dirty).lower(),
                    "config.hash": evidence.config_hash,
                    "data.digest": evidence.data_digest,
                    "backtest.metric": evidence.metric,
                    "backtest.value": f"{evidence.value:.6g}",
                    "run_id": logged.child_run_ids[winner],
                    "gate.report_run_id": logged.parent_run_id,
                    "gate.champion_at_decision": decision.champion.version if decision.champion else "none",
                } | {f"contract.{k}": v for k, v in self.contract.items()}
                for key, value in tags.items():
                    self.client.set_model_version_tag(self.name, version, key, value)
                _record(self.client, self.name, version, decision)
            except BaseException:
                self.client.delete_model_version(self.name, version)
                raise
        return version


@contextmanager
def champion_lock(name: str, contract: dict[str, str]) -> Iterator[Registry]:
    """Hold the registered model `name` for a compare-and-set: read the champion, decide, register."""
    c = client()
    with quiet():
        if _registered(c, name) is None:
            with suppress(MlflowException):  # created by a concurrent run a moment ago
                c.create_registered_model(name, tags={f"contract.{k}": v for k, v in contract.items()})
    path = _lock_path(name)
    with _file_lock(path) if path else _lease(c, name):
        check_contract(c, name, contract)
        yield Registry(c, name, contract)


def versions_and_aliases(c: MlflowClient, name: str) -> tuple[list[ModelVersion], dict[str, str]]:
    """Every version of `name` and its aliases; a store that cannot be read is a clear error."""
    try:
        versions = c.search_model_versions(f"name='{name}'")
        return versions, (c.get_registered_model(name).aliases if versions else {})
    except MlflowException as error:
        raise WorkbenchError(f"cannot read the registry at {c.tracking_uri}: {error.message}") from None


def _version(c: MlflowClient, name: str, version: str) -> ModelVersion:
    try:
        return c.get_model_version(name, version)
    except MlflowException:
        try:
            known = sorted(int(v.version) for v in c.search_model_versions(f"name='{name}'"))
        except MlflowException:
            known = []
        raise WorkbenchError(
            f"version {version} of registered model '{name}' does not exist; versions: "
            f"{', '.join(map(str, known)) or 'none (run make train first)'}"
        ) from None


def verified_report(c: MlflowClient, name: str, version: str) -> dict[str, Any]:
    """The gate report of `version`, refused unless it matches the digest recorded when the run was made."""
    model_version = _version(c, name, version)
    report_run = model_version.tags.get("gate.report_run_id")
    if not report_run:
        raise WorkbenchError(
            f"version {version} of '{name}' has no gate report; it was not registered by the workbench"
        )
    recorded = c.get_run(report_run).data.params.get(EVIDENCE_DIGEST)
    with quiet():
        report: dict[str, Any] = json.loads(mlflow.artifacts.load_text(f"runs:/{report_run}/{REPORT}"))
    if not recorded or evidence_digest(report["evidence"], report["settings"]) != recorded:
        raise GateRefused(
            f"version {version} of '{name}' was not promoted: its gate report (runs:/{report_run}/{REPORT}) does "
            f"not match the digest recorded in run parameter {EVIDENCE_DIGEST} when the run was made; the report "
            "was edited or is not the workbench's. Train again to get a new version."
        )
    return report


def promote(c: MlflowClient, *, name: str, version: str, contract: dict[str, str]) -> Decision:
    """Re-check the gate for `version` with today's champion and approvals, under the lock; move
    `champion` only if it passes."""
    report = verified_report(c, name, version)
    for _attempt in range(3):  # a server promotion that loses the race is judged again against the winner
        with champion_lock(name, contract) as registry:
            champion = registry.champion()
            if champion and champion.version == str(version):
                raise WorkbenchError(f"version {version} of '{name}' is already the champion")
            decision = evaluate(
                Evidence(**report["evidence"]),
                champion=champion,
                approval=approval_of(c, name, version),
                **report["settings"],
            )
            try:
                with deferred() as held:
                    _record(c, name, str(version), decision, promoting=True)
            except ChampionMoved:
                continue
            raise_pending(held)
            break
    else:
        raise WorkbenchError(f"the champion of '{name}' kept moving while version {version} was judged; try again")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    # the decision is on the version's tags; the run artifact is a copy an approver may not be allowed
    # to write on a team server (approvers read runs), so a refusal there is not an error
    with quiet(), suppress(*_refusals()):
        c.log_text(
            _version(c, name, version).tags["gate.report_run_id"],
            decision.to_json(),
            f"gate/promote_v{version}_{stamp}.json",
        )
    if not decision.passed:
        raise GateRefused(
            f"version {version} of '{name}' was not promoted:\n" + "\n".join(f"- {r}" for r in decision.reasons)
        )
    return decision


def _refusals() -> tuple[type[BaseException], ...]:
    from requests.exceptions import HTTPError

    return (HTTPError, MlflowException) if is_server() else ()


def approve(c: MlflowClient, *, name: str, version: str, by: str, note: str) -> Approval:
    if not (by.strip() or is_server()) or not note.strip():
        raise WorkbenchError("an approval needs a name (--by) and a note saying why (--note)")
    _version(c, name, version)
    # on a team server the approver is the account the server authenticated, not a typed name
    approver = current_user() or by.strip()
    approval = Approval(by=approver, note=note.strip(), at=datetime.now(UTC).isoformat(timespec="seconds"))
    for key, value in {"approval.by": approval.by, "approval.note": approval.note, "approval.at": approval.at}.items():
        c.set_model_version_tag(name, version, key, value)
    return approval


__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "EVIDENCE_DIGEST",
    "GateRefused",
    "Registry",
    "approve",
    "champion_lock",
    "check_contract",
    "client",
    "evidence_digest",
    "promote",
]
