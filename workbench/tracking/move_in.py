"""Copy a local store's runs and registered models to the team server. MLflow has no copy between stores,
so this replays them through the client API: each run with its params, full metric histories, tags and
artifacts (parents before children, parent links remapped), then each registered model's versions in order,
with their tags and aliases (an alias the server already has for that model is kept). Run it again and what was already copied is skipped, so an interrupted copy
can be finished. Moving `champion` needs the approver role: run it as an approver or the admin."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field

from mlflow.entities import Experiment, Metric, Param, Run
from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient

MOVED_FROM = "workbench.moved_from"  # on a copied run: the local run id; on a copied version: local source
_NOT_COPIED_TAGS = {"mlflow.parentRunId", "mlflow.log-model.history"}
_BATCH = 900
HOLDER_EXPERIMENT = "moved-in-models"


@dataclass
class MoveReport:
    experiments: int = 0
    runs_copied: int = 0
    runs_skipped: int = 0
    versions_copied: int = 0
    versions_skipped: int = 0
    aliases: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.experiments} experiment(s); runs: {self.runs_copied} copied, {self.runs_skipped} already there; "
            f"model versions: {self.versions_copied} copied, {self.versions_skipped} already there; "
            f"aliases: {', '.join(self.aliases) or 'none'}"
        )


def move_in(source: MlflowClient, target: MlflowClient, *, say: Callable[[str], None] = print) -> MoveReport:
    report = MoveReport()
    run_ids: dict[str, str] = {}
    for experiment in source.search_experiments():
        runs = source.search_runs(
            [experiment.experiment_id], max_results=50_000, order_by=["attributes.start_time ASC"]
        )
        if not runs:
            continue
        report.experiments += 1
        target_id = _experiment(target, experiment)
        moved = _already_moved(target, target_id)
        for run in sorted(runs, key=lambda r: "mlflow.parentRunId" in r.data.tags):
            if run.info.run_id in moved:
                run_ids[run.info.run_id] = moved[run.info.run_id]
                report.runs_skipped += 1
                continue
            run_ids[run.info.run_id] = _copy_run(source, target, run, target_id, run_ids)
            report.runs_copied += 1
            say(f"run {run.info.run_id} -> {run_ids[run.info.run_id]} ({experiment.name}/{run.info.run_name})")
    for model in source.search_registered_models():
        _copy_model(source, target, model.name, run_ids, report, say)
    return report


def _experiment(target: MlflowClient, experiment: Experiment) -> str:
    found = target.get_experiment_by_name(experiment.name)
    if found is not None:
        return found.experiment_id
    tags = {k: v for k, v in experiment.tags.items() if not k.startswith("mlflow.")}
    return target.create_experiment(experiment.name, tags=tags)


def _already_moved(target: MlflowClient, experiment_id: str) -> dict[str, str]:
    runs = target.search_runs([experiment_id], filter_string=f"tags.`{MOVED_FROM}` != ''", max_results=50_000)
    return {r.data.tags[MOVED_FROM]: r.info.run_id for r in runs}


def _copy_run(source: MlflowClient, target: MlflowClient, run: Run, experiment_id: str, run_ids: dict[str, str]) -> str:
    tags = {k: v for k, v in run.data.tags.items() if k not in _NOT_COPIED_TAGS} | {MOVED_FROM: run.info.run_id}
    parent = run.data.tags.get("mlflow.parentRunId")
    if parent in run_ids:
        tags["mlflow.parentRunId"] = run_ids[parent]
    copy = target.create_run(experiment_id, start_time=run.info.start_time, tags=tags, run_name=run.info.run_name)
    new_id: str = copy.info.run_id
    params = [Param(k, v) for k, v in run.data.params.items()]
    metrics = [m for key in run.data.metrics for m in source.get_metric_history(run.info.run_id, key)]
    for start in range(0, max(len(params), 1), 100):
        target.log_batch(new_id, params=params[start : start + 100])
    for start in range(0, len(metrics), _BATCH):
        chunk = metrics[start : start + _BATCH]
        target.log_batch(new_id, metrics=[Metric(m.key, m.value, m.timestamp, m.step) for m in chunk])
    with tempfile.TemporaryDirectory() as folder:
        if source.list_artifacts(run.info.run_id):
            local = source.download_artifacts(run.info.run_id, "", folder)
            target.log_artifacts(new_id, local)
    target.set_terminated(new_id, status=run.info.status, end_time=run.info.end_time)
    return new_id


def _copy_model(
    source: MlflowClient,
    target: MlflowClient,
    name: str,
    run_ids: dict[str, str],
    report: MoveReport,
    say: Callable[[str], None],
) -> None:
    from mlflow.exceptions import MlflowException

    model = source.get_registered_model(name)
    try:
        existing = target.get_registered_model(name)
    except MlflowException:
        existing = None
        target.create_registered_model(name, tags=model.tags, description=model.description)
    copied = {v.tags.get(MOVED_FROM) for v in target.search_model_versions(f"name='{name}'")}
    numbers: dict[str, str] = {}
    for version in sorted(source.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version)):
        origin = f"{name}/{version.version}"
        if origin in copied:
            report.versions_skipped += 1
            numbers[str(version.version)] = _target_version(target, name, origin)
            continue
        numbers[str(version.version)] = _copy_version(source, target, version, run_ids, origin)
        report.versions_copied += 1
        say(f"model {name} version {version.version} -> {numbers[str(version.version)]}")
    for alias, number in model.aliases.items():
        if existing is not None and alias in existing.aliases:
            # The team's own alias wins over a local one: moving in never replaces the server's champion.
            report.aliases.append(f"{name}@{alias} kept at {existing.aliases[alias]} (local: {number})")
            continue
        target.set_registered_model_alias(name, alias, numbers[str(number)])
        report.aliases.append(f"{name}@{alias}={numbers[str(number)]}")


def _target_version(target: MlflowClient, name: str, origin: str) -> str:
    versions = target.search_model_versions(f"name='{name}' and tags.`{MOVED_FROM}` = '{origin}'")
    return str(versions[0].version)


def _holder_run(target: MlflowClient, version: ModelVersion) -> str:
    """A version whose run is not in the local store (deleted, say) keeps its files in a run of its own."""
    found = target.get_experiment_by_name(HOLDER_EXPERIMENT)
    experiment_id = found.experiment_id if found else target.create_experiment(HOLDER_EXPERIMENT)
    run = target.create_run(experiment_id, run_name=f"{version.name}-v{version.version}")
    target.set_terminated(run.info.run_id)
    return str(run.info.run_id)


def _download_version(source: MlflowClient, version: ModelVersion, folder: str) -> str:
    """The version's files, found through the source store: a models:/ or runs:/ URI alone would be resolved
    against whatever store MLFLOW_TRACKING_URI names, which during a move is the server."""
    import mlflow.artifacts

    uri = version.source or ""
    model_id = getattr(version, "model_id", None) or (
        uri.removeprefix("models:/") if uri.startswith("models:/m-") else None
    )
    if model_id:
        location = source.get_logged_model(model_id).artifact_location
        return mlflow.artifacts.download_artifacts(artifact_uri=location, dst_path=folder)
    if uri.startswith("runs:/"):
        run_id, _, path = uri.removeprefix("runs:/").partition("/")
        return source.download_artifacts(run_id, path, folder)
    return mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=folder)


def _copy_version(
    source: MlflowClient, target: MlflowClient, version: ModelVersion, run_ids: dict[str, str], origin: str
) -> str:
    """The model's files go into the copied run under registered/<version>/ and the new version points there."""
    run_id = (version.run_id and run_ids.get(version.run_id)) or _holder_run(target, version)
    with tempfile.TemporaryDirectory() as folder:
        local = _download_version(source, version, folder)
        path = f"registered/{version.version}"
        target.log_artifacts(run_id, local, path)
    made = target.create_model_version(
        version.name,
        source=f"{target.get_run(run_id).info.artifact_uri}/{path}",
        run_id=run_id,
        tags=version.tags | {MOVED_FROM: origin},
        description=version.description,
    )
    return str(made.version)


def move_in_store(origin: str, target: str, *, say: Callable[[str], None] = print) -> MoveReport:
    """`move_in` between two tracking URIs (the local store and the team server)."""
    return move_in(MlflowClient(origin), MlflowClient(target), say=say)
