"""Recording one training run: a parent run for the experiment and a child run per candidate.

Recording never decides: the gate's decision is made in `workbench/train.py` and handed here to be
written down. Everything a run records is batched: one `log_batch` of params, metrics and tags per
run, one upload of a folder of artifacts per run, and figures arrive already rendered as PNG bytes.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from workbench.data.contract import AREA, HORIZON, ORIGIN, PERIOD, TARGET_PERIOD
from workbench.describe import comparison_table, run_description
from workbench.gate import Decision, Evidence
from workbench.interrupt import Interrupted
from workbench.record import LoggedRuns, TrainingRecord
from workbench.report.safety import write_published_csv
from workbench.tracking.dataset import log_dataset, panel_dataset
from workbench.tracking.explanations import explanation_files
from workbench.tracking.quiet import quiet
from workbench.tracking.registry import EVIDENCE_DIGEST, REPORT, evidence_digest
from workbench.tracking.registry import client as registry_client
from workbench.tracking.store import PROJECT_ROOT, artifact_root, tracking_uri

PACKAGES = ("lightgbm", "scikit-learn", "pandas", "numpy", "pyarrow", "pydantic", "pandera", "cloudpickle")
MODEL_CODE = [str(PROJECT_ROOT / d) for d in ("workbench", "features", "models")]
SUMMARY_METRICS = ("mae", "rmse", "wape", "mase", "bias", "coverage", "winkler", "wis")
SIZE_BAND_METRICS = re.compile(r"coverage_(q\d+|gap)")  # per-candidate coverage by size quintile


EXPERIMENT_KIND = "mlflow.experimentKind"
"""MLflow 3's experiment type: "custom_model_development" opens the classic machine-learning view
(runs, metrics, models) instead of the GenAI one (traces, evaluations). The UI reads this tag (its
experiment-kind selector writes it) and otherwise guesses the kind from what the experiment holds."""
CLASSIC_ML = "custom_model_development"
COLUMN_METRICS = ("mase", "wape", "bias", "coverage")


def experiment_id(client: MlflowClient, name: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        if found.tags.get(EXPERIMENT_KIND) != CLASSIC_ML:
            client.set_experiment_tag(found.experiment_id, EXPERIMENT_KIND, CLASSIC_ML)
        return found.experiment_id
    root = artifact_root(tracking_uri())
    try:
        return client.create_experiment(
            name, artifact_location=f"{root}/{name}" if root else None, tags={EXPERIMENT_KIND: CLASSIC_ML}
        )
    except MlflowException:  # a train started at the same moment created it first: use theirs
        raced = client.get_experiment_by_name(name)
        if raced is None:
            raise
        return raced.experiment_id


def run_name(experiment: str, winner: str, verdict: str, commit: str, *, version: str = "", quick: bool = False) -> str:
    """What the runs list shows for a training run: experiment, winner, verdict and short commit."""
    parts = [experiment, winner, "exploratory" if quick else verdict, *([f"v{version}"] if version else []), commit[:7]]
    return " · ".join(parts)


def column_metrics(record: TrainingRecord, decision: Decision) -> dict[str, float]:
    """The winner's key metrics and the verdict under short names, so the runs list can show them as columns."""
    summary = summary_metrics(record, record.selection.winner)
    out = {k: summary[k] for k in COLUMN_METRICS if k in summary}
    out["gate_passed"] = 1.0 if decision.passed else 0.0
    champion = decision.champion
    if champion is not None and champion.value is not None and champion.value > 0:
        out[f"{decision.evidence.metric}_vs_champion"] = decision.evidence.value / champion.value - 1
    return out


def _params(record: TrainingRecord) -> dict[str, str]:
    e = record.experiment
    params = {
        "experiment": e.name,
        "target": e.target,
        "frequency": record.panel.spec.frequency.label,
        "horizon": e.horizon,
        "horizons": ",".join(map(str, e.horizons)),
        "seed": e.seed,
        "features": ",".join(b.name for b in e.features),
        "candidates": ",".join(m.candidate for m in e.models),
        "n_features": len(record.table.features),
        "n_areas": record.panel.frame[AREA].nunique(),
        "first_period": str(record.panel.frame[PERIOD].min()),
        "last_period": str(record.panel.frame[PERIOD].max()),
        "data_source": record.panel.source,
        "engine": record.engine,
    }
    params |= {f"backtest.{k}": v for k, v in e.backtest.model_dump().items()}
    params |= {f"selection.{k}": v for k, v in e.selection.model_dump().items()}
    config = e.audit
    params |= {
        "audit.groupings": ",".join(config.groupings or record.panel.spec.groups),
        "audit.config": json.dumps(config.model_dump(mode="json"), sort_keys=True),
    }
    params |= {f"gate.{k}": v for k, v in e.gate.model_dump().items()}
    return {k: str(v)[:6000] for k, v in params.items()}


def _fold_metrics(record: TrainingRecord, candidate: str, now: int) -> list[Metric]:
    rows = record.backtest.fold_metrics[record.backtest.fold_metrics["candidate"] == candidate]
    metrics = []
    for row in rows.itertuples(index=False):
        for name in SUMMARY_METRICS:
            value = getattr(row, name)
            if pd.notna(value):
                metrics.append(Metric(f"fold.{name}.h{row.horizon}", float(value), now, int(row.fold)))
    return metrics


def summary_metrics(record: TrainingRecord, candidate: str) -> dict[str, float]:
    summary = record.backtest.summary.set_index("candidate").loc[candidate]
    out = {k: float(summary[k]) for k in SUMMARY_METRICS if pd.notna(summary[k])}
    out |= {k: float(v) for k, v in summary.items() if SIZE_BAND_METRICS.fullmatch(str(k)) and pd.notna(v)}
    by_h = record.backtest.horizon_metrics[record.backtest.horizon_metrics["candidate"] == candidate]
    for row in by_h.itertuples(index=False):
        for name in ("mase", "wape", "coverage"):
            if pd.notna(getattr(row, name)):
                out[f"{name}.h{row.horizon}"] = float(getattr(row, name))
    return out


def _batch(
    client: MlflowClient,
    run_id: str,
    *,
    metrics: Iterable[Metric | tuple[str, float]] = (),
    params: Mapping[str, object] | None = None,
    tags: Mapping[str, object] | None = None,
    now: int = 0,
) -> None:
    """Params, metrics and tags of one run in as few requests as MLflow's batch limits allow
    (100 params, 100 tags and 1,000 entries a request)."""
    metric_list = [m if isinstance(m, Metric) else Metric(m[0], float(m[1]), now, 0) for m in metrics]
    param_list = [Param(k, str(v)) for k, v in (params or {}).items()]
    tag_list = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
    chunk = 0
    while chunk == 0 or chunk * 100 < max(len(param_list), len(tag_list)) or chunk * 800 < len(metric_list):
        client.log_batch(
            run_id,
            metrics=metric_list[chunk * 800 : (chunk + 1) * 800],
            params=param_list[chunk * 100 : (chunk + 1) * 100],
            tags=tag_list[chunk * 100 : (chunk + 1) * 100],
        )
        chunk += 1


def _log_model(record: TrainingRecord, candidate: str) -> str:
    """The winner's pyfunc model, logged into its (resumed) child run."""
    from mlflow.models import infer_signature

    from workbench.tracking.pyfunc import ForecastModel

    fit = record.fits[candidate]
    columns = [*record.table.feature_names, *[c for c in fit.forecast_rows if c.startswith("ref_")]]
    categories = {
        f.name: list(fit.forecast_rows[f.name].cat.categories) for f in record.table.features if f.kind == "category"
    }
    example = fit.forecast_rows[columns].head(5)
    example = example.assign(**{c: example[c].astype(str) for c in categories}, horizon=example[HORIZON].astype(float))
    model = ForecastModel(forecaster=fit.forecaster, categories=categories, bands=fit.bands)
    output = model.predict(None, example)
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=model,
        signature=infer_signature(example, output),
        input_example=example,
        code_paths=MODEL_CODE,
        pip_requirements=[f"{p}=={version(p)}" for p in PACKAGES],
    )
    return str(info.model_uri)


def _write_frames(folder: Path, frames: dict[str, pd.DataFrame | str | bytes]) -> None:
    for name, content in frames.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content)
        elif name.endswith(".parquet"):
            content.to_parquet(path, index=False)
        else:  # text cells that a spreadsheet would run as formulas are guarded
            write_published_csv(content, path)


def _upload(client: MlflowClient, run_id: str, files: dict[str, pd.DataFrame | str | bytes]) -> None:
    """Every artifact of a run in one upload."""
    with tempfile.TemporaryDirectory() as tmp:
        _write_frames(Path(tmp), files)
        client.log_artifacts(run_id, tmp)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(**{c: frame[c].astype(str) for c in (ORIGIN, TARGET_PERIOD) if c in frame})


RECONCILIATION = "reconcile/choice.json"
"""The chosen reconciliation method and the aggregates' interval bands, read back by `make forecast`."""


def _parent_files(record: TrainingRecord) -> dict[str, pd.DataFrame | str | bytes]:
    selection, audits = record.selection, record.audits
    files: dict[str, pd.DataFrame | str | bytes] = {
        "experiment.yaml": record.experiment.raw_text,
        "warnings.txt": "\n".join(record.warnings) or "No warnings from the fits and explanations.",
        "backtest/comparison.csv": comparison_table(record).reset_index(names="candidate"),
        "backtest/metrics_by_horizon.csv": record.backtest.horizon_metrics,
        "backtest/metrics_by_fold.csv": record.backtest.fold_metrics,
        "backtest/selection.json": json.dumps(
            {
                "winner": selection.winner,
                "metric": selection.metric,
                "rule": selection.rule,
                "verdict": selection.verdict,
                "best_baseline": selection.best_baseline,
                "best_model": selection.best_model,
                "beats_baselines": selection.beats_baselines,
                "ranking": selection.ranking.to_dict(orient="records"),
            },
            indent=2,
            default=str,
        ),
        "backtest/features.json": json.dumps(
            [{"name": f.name, "concept": f.concept, "kind": f.kind} for f in record.table.features], indent=2
        ),
        "audit/audit_groups.csv": pd.concat([a.groups.assign(candidate=c) for c, a in audits.items()]),
        "audit/audit_disparities.csv": pd.concat([a.disparities.assign(candidate=c) for c, a in audits.items()]),
        "audit/audit_summary.json": json.dumps(
            {c: {"passed": a.passed, "reasons": a.reasons(limit=20)} for c, a in audits.items()}, indent=2
        ),
        "explanations/winner_drivers.csv": _as_text(record.explanations[selection.winner].drivers),
    }
    files |= {name: png for name, png in record.figures.items()}
    if record.reconciliation is not None:
        files |= {
            RECONCILIATION: record.reconciliation.to_json(),
            "reconcile/levels.csv": record.reconciliation.scores,
        }
    return files


def _child_files(record: TrainingRecord, candidate: str) -> dict[str, pd.DataFrame | str | bytes]:
    predictions = record.backtest.predictions[record.backtest.predictions["candidate"] == candidate]
    files: dict[str, pd.DataFrame | str | bytes] = {
        "backtest_predictions.parquet": predictions.assign(origin=predictions[ORIGIN].astype(str)),
        "forecast.csv": _as_text(record.fits[candidate].forecast),
    }
    files |= explanation_files(record.explanations[candidate])
    choices = record.backtest.combinations.get(candidate)
    if choices is not None:  # which members a combination used at each fold, and for the final forecast
        files["combination_choices.csv"] = choices.assign(
            fold=choices["fold"].astype(str).replace("<NA>", "final"),
            members=choices["members"].map(",".join),
            weights=choices["weights"].map(lambda ws: ",".join(f"{w:.4f}" for w in ws)),
            scored_on=choices["scored_on"].map(lambda fs: ",".join(map(str, fs))),
        )
    return files


@contextmanager
def training_runs(record: TrainingRecord, evidence: Evidence, *, commit: str, dirty: bool) -> Iterator[LoggedRuns]:
    """Open and fill the parent and child runs; the caller decides the gate inside the block.

    On an interruption every open run ends KILLED, on any other error FAILED: never RUNNING."""
    with quiet():
        uri = tracking_uri()
        mlflow.set_tracking_uri(uri)
        client = registry_client()
        exp_id = experiment_id(client, record.experiment.name)
        logged = _open_runs(client, exp_id, record, commit=commit, dirty=dirty)
        try:
            _fill_runs(client, record, logged)
            _batch(client, logged.parent_run_id, params=_evidence_params(record, evidence))
            yield logged
        except Interrupted:
            _end(client, logged, RunStatus.KILLED)
            raise
        except BaseException:
            _end(client, logged, RunStatus.FAILED)
            raise
        _end(client, logged, RunStatus.FINISHED)


def _open_runs(client: MlflowClient, exp_id: str, record: TrainingRecord, *, commit: str, dirty: bool) -> LoggedRuns:
    selection = record.selection
    contract = record.contract
    tags = {
        "git.commit": commit,
        "git.dirty": str(dirty).lower(),
        "mlflow.source.git.commit": commit,
        "config.hash": record.experiment.config_hash,
        "data.digest": record.panel.digest(),
        "data.source": record.panel.source,
        "winner": selection.winner,
        "selection.rule": selection.rule,
        "selection.beats_baselines": str(selection.beats_baselines).lower(),
        "mlflow.runName": run_name(record.experiment.name, selection.winner, "pending", commit),
        "mlflow.note.content": run_description(record, commit=commit, dirty=dirty),
    } | {f"contract.{k}": v for k, v in contract.items()}
    parent = client.create_run(exp_id, tags=tags, run_name=tags["mlflow.runName"])
    child_ids = {}
    for spec in record.experiment.models:
        child = client.create_run(
            exp_id,
            run_name=spec.candidate,
            tags={
                "mlflow.parentRunId": parent.info.run_id,
                "candidate": spec.candidate,
                "kind": spec.kind,
                "explainer": spec.explainer,
                "baseline": str(spec.is_baseline).lower(),
                "winner": str(spec.candidate == selection.winner).lower(),
                "git.commit": commit,
                "config.hash": record.experiment.config_hash,
                "data.digest": record.panel.digest(),
            },
        )
        child_ids[spec.candidate] = child.info.run_id
    return LoggedRuns(
        tracking_uri(), exp_id, parent.info.run_id, child_ids, {}, record.experiment.name, contract=contract
    )


def _evidence_params(record: TrainingRecord, evidence: Evidence) -> dict[str, str]:
    """Run parameters cannot be changed once logged: the digest of what the gate judges, and the
    figures a later champion comparison reads, are kept there."""
    return {
        EVIDENCE_DIGEST: evidence_digest(evidence.to_dict(), record.experiment.gate.model_dump()),
        "gate.metric": evidence.metric,
        "gate.metric_value": repr(evidence.value),
        "gate.data_digest": evidence.data_digest,
    }


def _fill_runs(client: MlflowClient, record: TrainingRecord, logged: LoggedRuns) -> None:
    selection = record.selection
    now = int(time.time() * 1000)
    dataset = panel_dataset(record.panel, name=f"panel:{record.experiment.name}", targets=record.experiment.target)
    parent_id = logged.parent_run_id
    metrics = {f"winner.{k}": v for k, v in summary_metrics(record, selection.winner).items()}
    metrics |= {f"best_baseline.{k}": v for k, v in summary_metrics(record, selection.best_baseline).items()}
    metrics |= {f"time.{k}_s": v for k, v in record.timings.items()}
    metrics["warnings.kinds"] = len(record.warnings)
    metrics |= record.audits[selection.winner].headline_metrics()
    params = _params(record)
    if record.reconciliation is not None:  # the winner's error at every level, by reconciliation method
        metrics |= record.reconciliation.metrics()
        params |= {"reconcile.method": record.reconciliation.method, "reconcile.reason": record.reconciliation.reason}
        params |= {"reconcile.levels": ",".join(record.reconciliation.levels)}
    _batch(
        client,
        parent_id,
        metrics=list(metrics.items()),
        params=params,
        tags={
            "winner_run_id": logged.child_run_ids[selection.winner],
            "audit.verdict": "pass" if record.audits[selection.winner].passed else "fail",
            "explanations.logged": str(len(record.explanations) == len(record.experiment.models)).lower(),
            "explanations.additivity_passed": str(
                all(e.additivity_passed for e in record.explanations.values())
            ).lower(),
        },
        now=now,
    )
    with mlflow.start_run(run_id=parent_id):
        log_dataset(dataset, context="training")
    _upload(client, parent_id, _parent_files(record))
    for spec in record.experiment.models:
        name = spec.candidate
        run_id = logged.child_run_ids[name]
        explanation = record.explanations[name]
        audit = record.audits[name]
        child_metrics = [*_fold_metrics(record, name, now)]
        child_metrics += [Metric(k, v, now, 0) for k, v in summary_metrics(record, name).items()]
        child_metrics += [Metric(k, v, now, 0) for k, v in explanation.metrics().items()]
        child_metrics += [Metric(k, v, now, 0) for k, v in audit.headline_metrics().items()]
        params = {"model": spec.model} | {k: v for k, v in spec.model_dump().items()}
        tags = explanation.tags() | {"audit.verdict": "pass" if audit.passed else "fail"}
        _batch(client, run_id, metrics=child_metrics, params=params, tags=tags)
        _upload(client, run_id, _child_files(record, name))
    winner_run = logged.child_run_ids[selection.winner]
    with mlflow.start_run(run_id=parent_id), mlflow.start_run(run_id=winner_run, nested=True):
        log_dataset(dataset, context="training")
        logged.model_uris[selection.winner] = _log_model(record, selection.winner)


def _end(client: MlflowClient, logged: LoggedRuns, status: int) -> None:
    for run_id in [*logged.child_run_ids.values(), logged.parent_run_id]:
        client.set_terminated(run_id, RunStatus.to_string(status))


def record_exploratory(record: TrainingRecord, *, commit: str, dirty: bool) -> LoggedRuns:
    """A `--quick` run, kept small: one run with its parameters, the winner's key metrics, the comparison
    table of every candidate and the winner's global drivers; tagged exploratory, never registered, no model."""
    selection = record.selection
    summary = comparison_table(record)
    metrics = [(k, v) for k, v in summary_metrics(record, selection.winner).items() if k in COLUMN_METRICS]
    metrics += [(f"time.{k}_s", v) for k, v in record.timings.items()]
    tags = {
        "workbench.exploratory": "true",
        "verdict": "exploratory",
        "winner": selection.winner,
        "git.commit": commit,
        "git.dirty": str(dirty).lower(),
        "mlflow.source.git.commit": commit,
        "config.hash": record.experiment.config_hash,
        "data.digest": record.panel.digest(),
        "mlflow.note.content": (
            f"Exploratory run (`workbench train --quick`): {len(record.backtest.folds)} backtest origins, "
            f"{len(record.experiment.models)} candidates, no audit, the winner's global drivers only. "
            f"{selection.verdict} Never registered; run `make train` for a run the gate can promote."
        ),
    }
    files: dict[str, pd.DataFrame | str | bytes] = {
        "experiment.yaml": record.experiment.raw_text,
        "backtest/comparison.csv": summary.reset_index(names="candidate"),
    }
    importance = record.explanations[selection.winner].concept_importance
    if importance is not None:
        files["explanations/importance_concepts.csv"] = importance.reset_index(names="concept")
    with quiet():
        uri = tracking_uri()
        client = registry_client()
        name = run_name(record.experiment.name, selection.winner, "", commit, quick=True)
        run = client.create_run(experiment_id(client, record.experiment.name), tags=tags, run_name=name)
        run_id = run.info.run_id
        try:
            _batch(client, run_id, metrics=metrics, params=_params(record), now=int(time.time() * 1000))
            _upload(client, run_id, files)
        except Interrupted:
            client.set_terminated(run_id, RunStatus.to_string(RunStatus.KILLED))
            raise
        except BaseException:
            client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
            raise
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FINISHED))
    return LoggedRuns(uri, run.info.experiment_id, run_id, {}, {}, record.experiment.name, contract=record.contract)


def record_decision(
    record: TrainingRecord,
    logged: LoggedRuns,
    decision: Decision,
    version: str,
    *,
    commit: str,
    dirty: bool,
    audit_report: str,
) -> None:
    """Write the gate's decision into the parent run: report, summary, tags and the run description."""
    client = registry_client()
    winner = record.selection.winner
    name = run_name(record.experiment.name, winner, decision.verdict, commit, version=version)
    tags = {
        "gate.verdict": decision.verdict,
        "verdict": decision.verdict,
        "mlflow.runName": name,
        "registered_model": record.experiment.name,
        "registered_version": version,
        "alias": "champion" if decision.passed else "challenger",
        "mlflow.note.content": run_description(
            record, commit=commit, dirty=dirty, decision=decision, model=record.experiment.name, version=version
        ),
    }
    tags |= {f"gate.{c.name}": "pass" if c.passed else ("fail" if c.blocking else "noted") for c in decision.checks}
    with quiet():
        _upload(
            client,
            logged.parent_run_id,
            {
                REPORT: decision.to_json(),
                "gate/gate_summary.md": decision.summary() + "\n",
                "audit/audit_report.md": audit_report,
            },
        )
        _batch(
            client,
            logged.parent_run_id,
            tags=tags,
            metrics=list(column_metrics(record, decision).items()),
            now=int(time.time() * 1000),
        )
        client.update_run(logged.parent_run_id, name=name)
        client.set_tag(logged.child_run_ids[winner], "gate.verdict", decision.verdict)


__all__ = ["REPORT", "record_decision", "record_exploratory", "run_name", "summary_metrics", "training_runs"]
