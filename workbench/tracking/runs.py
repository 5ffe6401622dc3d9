"""Logging one training run: a parent run for the experiment and a child run per candidate."""

from __future__ import annotations

import json
import logging
import tempfile
import time
import warnings
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.entities import Metric, Param
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from workbench.audit.report import audit_markdown, disparity_figure
from workbench.describe import comparison_table, run_description
from workbench.gate import evaluate, evidence_from
from workbench.plots import backtest_figure, close
from workbench.record import LoggedRuns, TrainingRecord
from workbench.tracking.explanations import log_explanation
from workbench.tracking.pyfunc import ForecastModel
from workbench.tracking.registry import REPORT, register
from workbench.tracking.store import PROJECT_ROOT, artifact_root, git_state, tracking_uri

PACKAGES = ("lightgbm", "scikit-learn", "pandas", "numpy", "pyarrow", "pydantic", "pandera", "cloudpickle")
MODEL_CODE = [str(PROJECT_ROOT / d) for d in ("workbench", "features", "models")]


def _experiment_id(client: MlflowClient, name: str, uri: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    root = artifact_root(uri)
    return client.create_experiment(name, artifact_location=f"{root}/{name}" if root else None)


def _dataset(record: TrainingRecord):
    frame = record.panel.frame.assign(period=record.panel.frame["period"].astype(str))
    return mlflow.data.from_pandas(
        frame,
        source=record.panel.source,
        targets=record.experiment.target,
        name=f"panel:{record.experiment.name}",
        digest=record.panel.digest(),
    )


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
        "n_areas": record.panel.frame["area_code"].nunique(),
        "first_period": str(record.panel.frame["period"].min()),
        "last_period": str(record.panel.frame["period"].max()),
        "data_source": record.panel.source,
    }
    params |= {f"backtest.{k}": v for k, v in e.backtest.model_dump().items()}
    params |= {f"selection.{k}": v for k, v in e.selection.model_dump().items()}
    return {k: str(v)[:6000] for k, v in params.items()}


def _fold_metrics(record: TrainingRecord, candidate: str, now: int) -> list[Metric]:
    rows = record.backtest.fold_metrics[record.backtest.fold_metrics["candidate"] == candidate]
    metrics = []
    for row in rows.itertuples(index=False):
        for name in ("mae", "rmse", "wape", "mase", "bias", "coverage", "winkler"):
            value = getattr(row, name)
            if pd.notna(value):
                metrics.append(Metric(f"fold.{name}.h{row.horizon}", float(value), now, int(row.fold)))
    return metrics


def _summary_metrics(record: TrainingRecord, candidate: str) -> dict[str, float]:
    summary = record.backtest.summary.set_index("candidate").loc[candidate]
    out = {
        k: float(summary[k])
        for k in ("mae", "rmse", "wape", "mase", "bias", "coverage", "winkler")
        if pd.notna(summary[k])
    }
    by_h = record.backtest.horizon_metrics[record.backtest.horizon_metrics["candidate"] == candidate]
    for row in by_h.itertuples(index=False):
        for name in ("mase", "wape", "coverage"):
            if pd.notna(getattr(row, name)):
                out[f"{name}.h{row.horizon}"] = float(getattr(row, name))
    return out


def _log_model(record: TrainingRecord, candidate: str) -> str:
    fit = record.fits[candidate]
    columns = [*record.table.feature_names, *[c for c in fit.forecast_rows if c.startswith("ref_")]]
    categories = {
        f.name: list(fit.forecast_rows[f.name].cat.categories) for f in record.table.features if f.kind == "category"
    }
    example = fit.forecast_rows[columns].head(5)
    example = example.assign(
        **{c: example[c].astype(str) for c in categories}, horizon=example["horizon"].astype(float)
    )
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
    return info.model_uri


@contextmanager
def _quiet():
    """MLflow's own notices (schema hints, pickling advice) are noise at the terminal; errors still show."""
    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        logger.setLevel(level)


def log_training(record: TrainingRecord) -> LoggedRuns:
    """Log `record` to the tracking store. A failure part-way marks the runs FAILED, never RUNNING."""
    with _quiet():
        return _log_training(record)


def _log_training(record: TrainingRecord) -> LoggedRuns:
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    experiment_id = _experiment_id(client, record.experiment.name, uri)
    commit, dirty = git_state()
    description = run_description(record, commit=commit, dirty=dirty)
    selection = record.selection
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
        "explanations.logged": str(len(record.explanations) == len(record.experiment.models)).lower(),
        "explanations.additivity_passed": str(all(e.additivity_passed for e in record.explanations.values())).lower(),
    }
    child_ids: dict[str, str] = {}
    model_uris: dict[str, str] = {}
    dataset = _dataset(record)
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"{record.experiment.name}", description=description, tags=tags
    ) as parent:
        client.log_batch(parent.info.run_id, params=[Param(k, v) for k, v in _params(record).items()])
        mlflow.log_input(dataset, context="training")
        mlflow.log_text(record.experiment.raw_text, "experiment.yaml")
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            comparison_table(record).to_csv(folder / "comparison.csv")
            record.backtest.horizon_metrics.to_csv(folder / "metrics_by_horizon.csv", index=False)
            record.backtest.fold_metrics.to_csv(folder / "metrics_by_fold.csv", index=False)
            (folder / "selection.json").write_text(
                json.dumps(
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
                )
            )
            (folder / "features.json").write_text(
                json.dumps(
                    [{"name": f.name, "concept": f.concept, "kind": f.kind} for f in record.table.features], indent=2
                )
            )
            mlflow.log_artifacts(tmp, artifact_path="backtest")
        figure = backtest_figure(
            record.backtest,
            winner=selection.winner,
            baselines=[m.candidate for m in record.experiment.baselines],
            target=record.experiment.target,
        )
        mlflow.log_figure(figure, "backtest/backtest.png")
        close(figure)
        winner_metrics = _summary_metrics(record, selection.winner)
        baseline_metrics = _summary_metrics(record, selection.best_baseline)
        metrics = {f"winner.{k}": v for k, v in winner_metrics.items()}
        metrics |= {f"best_baseline.{k}": v for k, v in baseline_metrics.items()}
        metrics |= {f"time.{k}_s": v for k, v in record.timings.items()}
        mlflow.log_metrics(metrics)
        now = int(time.time() * 1000)
        for spec in record.experiment.models:
            name = spec.candidate
            with mlflow.start_run(
                experiment_id=experiment_id,
                run_name=name,
                nested=True,
                tags={
                    "candidate": name,
                    "kind": spec.kind,
                    "explainer": spec.explainer,
                    "baseline": str(spec.is_baseline).lower(),
                    "winner": str(name == selection.winner).lower(),
                    "git.commit": commit,
                    "config.hash": record.experiment.config_hash,
                    "data.digest": record.panel.digest(),
                },
            ) as child:
                params = [Param("model", spec.model)] + [Param(k, str(v)) for k, v in spec.model_dump().items()]
                client.log_batch(child.info.run_id, params=params, metrics=_fold_metrics(record, name, now))
                mlflow.log_metrics(_summary_metrics(record, name))
                mlflow.log_input(dataset, context="training")
                with tempfile.TemporaryDirectory() as tmp:
                    predictions = record.backtest.predictions[record.backtest.predictions["candidate"] == name]
                    predictions.assign(origin=predictions["origin"].astype(str)).to_parquet(
                        Path(tmp) / "backtest_predictions.parquet", index=False
                    )
                    forecast = record.fits[name].forecast
                    forecast.assign(**{c: forecast[c].astype(str) for c in ("origin", "target_period")}).to_csv(
                        Path(tmp) / "forecast.csv", index=False
                    )
                    mlflow.log_artifacts(tmp)
                log_explanation(
                    record.explanations[name], config=record.experiment.explain, seed=record.experiment.seed
                )
                audit = record.audits[name]
                mlflow.log_metrics(audit.headline_metrics())
                mlflow.set_tag("audit.verdict", "pass" if audit.passed else "fail")
                model_uris[name] = _log_model(record, name)
                child_ids[name] = child.info.run_id
        mlflow.set_tag("winner_run_id", child_ids[selection.winner])
        _log_audit(record)
        decision, version = _gate_and_register(
            client, record, parent.info.run_id, child_ids, model_uris, commit=commit, dirty=dirty
        )
        mlflow.set_tag(
            "mlflow.note.content",
            run_description(
                record, commit=commit, dirty=dirty, decision=decision, model=record.experiment.name, version=version
            ),
        )
        winner_drivers = record.explanations[selection.winner].drivers
        mlflow.log_text(
            winner_drivers.assign(**{c: winner_drivers[c].astype(str) for c in ("origin", "target_period")}).to_csv(
                index=False
            ),
            "explanations/winner_drivers.csv",
        )
    return LoggedRuns(
        uri, experiment_id, parent.info.run_id, child_ids, model_uris, record.experiment.name, version, decision
    )


def _log_audit(record: TrainingRecord) -> None:
    """Audit tables for every candidate, and the winner's report and chart, on the parent run."""
    audits = record.audits
    winner = audits[record.selection.winner]
    config = record.experiment.audit
    params = {
        "audit.groupings": ",".join(config.groupings or record.panel.spec.groups),
        "audit.intersections": config.intersections,
        "audit.min_group_size": config.min_group_size,
        "audit.reference": config.reference,
        "audit.bootstrap": config.bootstrap,
        "audit.confidence": config.confidence,
        "audit.block_on_uncertain": config.block_on_uncertain,
    }
    params |= {f"audit.threshold.{k}": v for k, v in config.thresholds.model_dump().items()}
    params |= {f"gate.{k}": v for k, v in record.experiment.gate.model_dump().items()}
    mlflow.log_params({k: str(v) for k, v in params.items()})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pd.concat([a.groups.assign(candidate=c) for c, a in audits.items()]).to_csv(
            folder / "audit_groups.csv", index=False
        )
        pd.concat([a.disparities.assign(candidate=c) for c, a in audits.items()]).to_csv(
            folder / "audit_disparities.csv", index=False
        )
        (folder / "audit_summary.json").write_text(
            json.dumps({c: {"passed": a.passed, "reasons": a.reasons(limit=20)} for c, a in audits.items()}, indent=2)
        )
        mlflow.log_artifacts(tmp, artifact_path="audit")
    figure = disparity_figure(winner)
    mlflow.log_figure(figure, "audit/disparities.png")
    close(figure)
    mlflow.log_metrics(winner.headline_metrics())
    mlflow.set_tag("audit.verdict", "pass" if winner.passed else "fail")


def _gate_and_register(
    client: MlflowClient,
    record: TrainingRecord,
    parent_run_id: str,
    child_ids: dict[str, str],
    model_uris: dict[str, str],
    *,
    commit: str,
    dirty: bool,
):
    evidence = evidence_from(record, commit=commit, dirty=dirty)
    settings = record.experiment.gate

    def decide(champion, approval):
        return evaluate(evidence, champion=champion, approval=approval, **settings.model_dump())

    winner = record.selection.winner
    version, decision = register(
        client,
        name=record.experiment.name,
        model_uri=model_uris[winner],
        run_id=child_ids[winner],
        parent_run_id=parent_run_id,
        decide=decide,
    )
    mlflow.log_text(decision.to_json(), REPORT)
    mlflow.log_text(decision.summary() + "\n", "gate/gate_summary.md")
    mlflow.log_text(audit_markdown(record.audits[winner], decision_summary=decision.summary()), "audit/audit_report.md")
    tags = {
        "gate.verdict": decision.verdict,
        "registered_model": record.experiment.name,
        "registered_version": version,
        "alias": "champion" if decision.passed else "challenger",
    }
    tags |= {f"gate.{c.name}": "pass" if c.passed else ("fail" if c.blocking else "noted") for c in decision.checks}
    mlflow.set_tags(tags)
    client.set_tag(child_ids[winner], "gate.verdict", decision.verdict)
    return decision, version


__all__ = ["log_training"]
