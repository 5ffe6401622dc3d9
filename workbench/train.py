"""The spine of `make train`: load -> validate -> features -> backtest -> select -> fit -> explain ->
audit -> gate -> record.

Each step is one call into the module that owns it; the gate's decision is made here, in plain
sight, and the tracking package only writes it down. Everything is computed before anything is
logged, so bad input or a failed step never leaves a run behind. The champion is read, judged and
moved under one lock (compare-and-set), and an interruption ends every open run as KILLED.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TypedDict

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from models.combination import Combination
from workbench import gate, interrupt, tracking
from workbench.audit import audit_candidate, status_quo
from workbench.audit.report import audit_markdown, disparity_figure
from workbench.backtest import rolling_origins, run_backtest
from workbench.combination import add_combinations, final_fits
from workbench.config import Experiment, load_experiment
from workbench.data.contract import PERIOD, Frequency, Panel
from workbench.data.history import require_history
from workbench.data.load import load_panel
from workbench.describe import combination_lines, comparison_table
from workbench.engine import Engine, EngineSettings
from workbench.errors import ConfigError
from workbench.explain import explain, explanation_task, global_drivers, wording_for
from workbench.featurize import build_feature_table, check_builders
from workbench.fit import fit_final
from workbench.gate import Decision
from workbench.plots import backtest_figure, headless, png
from workbench.reconcile import check_hierarchy, reconcile_backtest
from workbench.record import LoggedRuns, TrainingRecord, contract_of
from workbench.selection import SelectionRule, confirm, select


def check_experiment(experiment: Experiment, panel: Panel) -> None:
    """What can only be checked once the panel is loaded; fails before anything is computed."""
    source = experiment.path or "experiment"
    problems = []
    if experiment.target not in panel.spec.targets:
        problems.append(
            f"{source}: target '{experiment.target}' is not one of the panel's targets: "
            f"{', '.join(panel.spec.targets)}; set 'target' to one of them"
        )
    if experiment.frequency and Frequency.parse(experiment.frequency) != panel.spec.frequency:
        problems.append(
            f"{source}: frequency '{experiment.frequency}' does not match the panel, which is "
            f"{panel.spec.frequency.label}ly"
        )
    if not experiment.models:
        problems.append(f"{source}: models: list at least one baseline and one candidate model")
    elif not experiment.baselines:
        problems.append(
            f"{source}: models: include at least one baseline (naive, seasonal_naive or recent_mean) "
            "so the winner can be judged against it"
        )
    if problems:
        raise ConfigError("\n".join(problems))
    status_quo(experiment)  # the audit's reference candidate exists
    check_hierarchy(experiment, panel)  # the declared levels are nested group columns of the panel
    check_builders(experiment.features, panel, target=experiment.target, source=str(source))


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    interrupt.failpoint(stage)
    yield
    timings[stage] = round(time.perf_counter() - start, 3)


def _progress(console: Console) -> Progress:
    """A bar over tasks with elapsed and remaining time; silent when output is not a terminal, and in CI."""
    return Progress(
        TextColumn("{task.description:<12} {task.fields[step]:<36}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal or bool(os.environ.get("CI")),
    )


def _advance(progress: Progress, bar: TaskID, stage: str, step: str | None = None) -> None:
    """One more task done; `step` names the latest when the bar shows it."""
    if step is None:
        progress.update(bar, advance=1)
    else:
        progress.update(bar, advance=1, step=step)
    interrupt.failpoint(f"{stage}_task")


def quick_variant(experiment: Experiment) -> Experiment:
    """The exploratory variant of an experiment (`train --quick`), as its `quick:` section says:
    fewer backtest origins (a fold gets intervals once at least one earlier fold is known), and
    every baseline with only the candidates named there (a combination only if some of the models it
    combines are among them)."""
    b, q = experiment.backtest, experiment.quick
    origins = min(b.origins, q.origins)
    keep = set(q.models) if q.models is not None else {m.candidate for m in experiment.models}
    models = [m for m in experiment.models if m.is_baseline or m.candidate in keep]
    return experiment.model_copy(
        update={
            "backtest": b.model_copy(
                update={"origins": origins, "min_calibration_folds": min(b.min_calibration_folds, max(1, origins - 1))}
            ),
            "models": [m for m in models if not isinstance(m, Combination) or m.pool(models)],
        }
    )


def train(
    experiment: Experiment,
    *,
    console: Console,
    engine: Engine,
    timings: dict[str, float] | None = None,
    quick: bool = False,
) -> TrainingRecord:
    """Compute everything for one experiment; nothing is logged here. A `quick` train stops after the
    selection with the winner's global drivers: no final fits, no audit, no figures; it is never judged."""
    timings = {} if timings is None else timings
    with _timed(timings, "load"), console.status("Loading and validating the panel"):
        panel = load_panel(experiment.data)
    engine.warm_up()  # workers not yet started import now, while this process checks and builds the features
    require_history(panel, experiment)
    check_experiment(experiment, panel)
    tracking.check_contract(experiment.name, contract_of(experiment, panel), source=str(experiment.path))
    with _timed(timings, "features"):
        table = build_feature_table(
            panel,
            target=experiment.target,
            builders=experiment.features,
            horizons=experiment.horizons,
            reference_windows=experiment.reference_windows(),
        )
    b = experiment.backtest
    folds = rolling_origins(
        first_period=panel.frame[PERIOD].min(),
        last_period=panel.frame[PERIOD].max(),
        origins=b.origins,
        step=b.step,
        max_horizon=max(experiment.horizons),
        min_train_periods=b.min_train_periods,
    )
    progress = _progress(console)
    with progress:
        with _timed(timings, "backtest"):
            bar = progress.add_task("Backtest", total=len(folds) * len(experiment.fitted_models), step="")
            backtest = run_backtest(
                table,
                experiment.fitted_models,
                folds,
                level=b.interval_level,
                min_calibration_folds=b.min_calibration_folds,
                size_bands=b.interval_size_bands,
                min_band_residuals=b.interval_min_band_residuals,
                calibration_origins=b.interval_calibration_origins,
                seed=experiment.seed,
                engine=engine,
                on_step=lambda c, f: _advance(progress, bar, "backtest", step=f"{c} @ {f.origin}"),
            )
            rule = SelectionRule.from_config(experiment.selection)
            # combinations: members and weights for each fold chosen on the folds known at its origin
            backtest = add_combinations(backtest, experiment.combinations, candidates=experiment.models, rule=rule)
        held = rule.held_back(len(folds))  # the last origins confirm the choice made on the others
        selection = select(
            backtest.summary_over(folds[: len(folds) - held]),
            rule=rule,
            baselines={m.candidate for m in experiment.baselines},
            origins=len(folds) - held,
            horizons=experiment.horizons,
        )
        selection = confirm(selection, backtest.summary_over(folds[len(folds) - held :]), rule=rule, folds=held)
        if quick:  # exploratory: nothing refitted, the winner's global drivers from its latest backtest fit
            with _timed(timings, "explain"):
                (spec,) = [m for m in experiment.models if m.candidate == selection.winner]
                explanation = global_drivers(spec, backtest=backtest, table=table, seed=experiment.seed)
            return TrainingRecord(
                experiment,
                panel,
                table,
                backtest,
                selection,
                fits={},
                explanations={spec.candidate: explanation},
                timings=timings,
                engine=engine.settings.describe(),
                warnings=tuple(engine.warning_summary()),
            )
        with _timed(timings, "reconcile"):
            reconciliation = reconcile_backtest(experiment, panel, backtest, winner=selection.winner)
        with _timed(timings, "final_fit"):
            fits = fit_final(table, experiment.fitted_models, bands=backtest.bands, seed=experiment.seed, engine=engine)
            fits |= final_fits(fits, backtest, experiment.combinations, candidates=experiment.models)
        with _timed(timings, "explain"):
            wording = wording_for(
                experiment.features,
                target_label=experiment.report.target_label,
                period_word=panel.spec.frequency.label,
                reference=experiment.explain.reference,
                periods=experiment.explain.reference_periods,
            )
            pooled = {name for c in experiment.combinations for name in c.pool(experiment.models)}
            # The winner's sentences compare each forecast with the area's recent periods; a winning
            # combination's come from its members' comparisons.
            explained_against_references = {selection.winner} | {
                name
                for c in experiment.combinations
                if c.candidate == selection.winner
                for name in c.pool(experiment.models)
            }
            tasks = {
                spec.candidate: explanation_task(
                    spec,
                    table=table,
                    panel=panel,
                    backtest=backtest,
                    fit=fits[spec.candidate],
                    config=experiment.explain,
                    seed=experiment.seed,
                    wording=wording,
                    figures=spec.candidate == selection.winner,
                    contrast=spec.candidate in explained_against_references,
                    keep_references=spec.candidate in pooled,
                )
                for spec in experiment.models
            }
            bar = progress.add_task("Explain", total=len(tasks), step="SHAP for every candidate")
            # the biggest first (the winner's, with its reference periods and figures; baselines last),
            # so that a pool's workers finish together
            fitted = [
                tasks[spec.candidate]
                for spec in sorted(
                    experiment.fitted_models,
                    key=lambda m: (m.candidate not in explained_against_references, m.explainer == "baseline"),
                )
            ]
            done = engine.map(explain, fitted, on_done=lambda i: _advance(progress, bar, "explain"))
            explanations = {e.candidate: e for e in done}
            for spec in experiment.combinations:  # its members' SHAP values, weighted: reused, not computed again
                explanations[spec.candidate] = explain(tasks[spec.candidate], members=explanations)
                _advance(progress, bar, "explain")
            explanations = {c: replace(e, reference_explanation=None) for c, e in explanations.items()}  # used up
    with _timed(timings, "audit"), console.status("Auditing every candidate across groups of areas"):
        static = panel.static_table()
        baseline = backtest.predictions[backtest.predictions["candidate"] == status_quo(experiment)]
        audits = {
            spec.candidate: audit_candidate(
                spec.candidate,
                backtest.predictions[backtest.predictions["candidate"] == spec.candidate],
                static=static,
                config=experiment.audit,
                default_groupings=panel.spec.groups,
                seed=experiment.seed,
                baseline=baseline,
            )
            for spec in experiment.models
        }
    headless()
    figures = {
        "backtest/backtest.png": png(
            backtest_figure(
                backtest,
                winner=selection.winner,
                baselines=[m.candidate for m in experiment.baselines],
                target=experiment.target,
            )
        ),
        "audit/disparities.png": png(disparity_figure(audits[selection.winner])),
    }
    return TrainingRecord(
        experiment,
        panel,
        table,
        backtest,
        selection,
        fits,
        explanations,
        audits,
        timings,
        figures,
        engine.settings.describe(),
        tuple(engine.warning_summary()),
        reconciliation,
    )


def run(
    experiment_path: Path, *, console: Console, settings: EngineSettings | None = None, quick: bool = False
) -> TrainingRecord:
    """load -> ... -> gate -> record, for one experiment file; returns what was computed, with the
    time each stage took. A `quick` run is exploratory: it is recorded in MLflow but never judged
    for promotion or registered."""
    experiment = load_experiment(experiment_path)
    if quick:
        experiment = quick_variant(experiment)
    engine = Engine(EngineSettings.resolve(experiment=_engine_settings(experiment), **_overrides(settings)))
    engine.warm_up()  # the pool's workers import while MLflow is read and the panel loaded
    console.print(f"[bold]Experiment[/] {experiment.name}: {escape(experiment.description.strip())}")
    seen_champion = None if quick else tracking.champion_version(experiment.name)
    commit, dirty = tracking.git_state()  # the code as the train starts: an edit made meanwhile is not credited
    timings: dict[str, float] = {}
    record = train(experiment, console=console, engine=engine, timings=timings, quick=quick)
    if quick:  # exploratory: one small run, never judged nor registered
        with _timed(timings, "record"), console.status("Recording the exploratory run in MLflow"):
            runs = tracking.record_exploratory(record, commit=commit, dirty=dirty)
        render_quick(record, runs, console=console, path=experiment_path)
        return record
    evidence = gate.evidence_from(record, commit=commit, dirty=dirty)
    with _timed(timings, "record"), console.status("Recording the runs and the decision in MLflow"):
        with tracking.training_runs(record, evidence, commit=commit, dirty=dirty) as runs:
            # Compare-and-set: the champion is read, judged and moved under one lock; a signal waits
            # until the version and its record are complete, so the registry is never half-changed.
            with interrupt.deferred() as held, tracking.champion_lock(experiment.name, record.contract) as registry:
                decision = gate.decide(
                    evidence, champion=registry.champion(), settings=experiment.gate, seen_champion=seen_champion
                )
                version = registry.register(runs, decision)
                audit_report = audit_markdown(
                    record.audits[record.selection.winner], decision_summary=decision.summary()
                )
                tracking.record_decision(
                    record, runs, decision, version, commit=commit, dirty=dirty, audit_report=audit_report
                )
    interrupt.raise_pending(held)
    render(record, runs, decision, version, console=console)
    return record


def _engine_settings(experiment: Experiment) -> EngineSettings:
    e = experiment.engine
    return EngineSettings(executor=e.executor, jobs=e.jobs, scheduler=e.scheduler)


class _Overrides(TypedDict, total=False):
    jobs: int | None
    executor: str | None
    scheduler: str | None


def _overrides(settings: EngineSettings | None) -> _Overrides:
    if settings is None:
        return {}
    return {"jobs": settings.jobs, "executor": settings.executor, "scheduler": settings.scheduler}


def render_quick(record: TrainingRecord, logged: LoggedRuns, *, console: Console, path: Path) -> None:
    console.print(_table(record))
    console.print(record.selection.verdict)
    importance = record.explanations[record.selection.winner].concept_importance
    if importance is not None:
        shares = importance["mean_abs_amount"] / importance["mean_abs_amount"].sum()
        console.print(
            "The winner's drivers in its latest backtest fold (share of the mean absolute effect): "
            + ", ".join(f"{escape(str(concept))} {share:.0%}" for concept, share in shares.head(5).items())
        )
    console.print(f"Time (s, {record.engine}): " + ", ".join(f"{k} {v:.1f}" for k, v in record.timings.items()))
    render_warnings(record, console=console)
    console.print(
        f"[bold yellow]Exploratory run[/] (--quick): run {logged.parent_run_id} in {logged.tracking_uri}, "
        f"tagged workbench.exploratory=true; not audited, nothing was registered. For a run the gate can "
        f"promote: `make train EXP={path}`."
    )


def render_warnings(record: TrainingRecord, *, console: Console) -> None:
    """Warnings raised inside fits and explanations, each kind once with its count (also logged as
    `warnings.txt` on the parent run), instead of one line per fit or none from the workers."""
    if record.warnings:
        console.print(f"[yellow]Warnings from the fits and explanations ({len(record.warnings)} kinds):[/]")
        for line in record.warnings:
            console.print(f"  {escape(line)}", soft_wrap=True)


def _next_steps(record: TrainingRecord, decision: Decision, version: str) -> list[str]:
    """What to run next after a refusal: each command in full."""
    exp = record.experiment.path or "experiments/<name>.yaml"
    steps = []
    if any(c.name == "clean_tree" and not c.passed and c.blocking for c in decision.checks):
        steps.append(
            "commit your changes (`git commit -am '...'`) or stash them (`git stash`), then "
            f"`make train EXP={exp}` again"
        )
    steps.append(f"see what changed against the champion: `make compare-champion EXP={exp} VERSION={version}`")
    if decision.evidence.audit_needs_approval:
        steps.append(f'record a reviewer\'s approval: `make approve EXP={exp} VERSION={version} BY="..." NOTE="..."`')
    steps.append(f"once the reasons are resolved: `make promote EXP={exp} VERSION={version}`")
    return steps


def _table(record: TrainingRecord) -> Table:
    table = Table(
        title=f"{record.experiment.name}: backtest over {len(record.backtest.folds)} origins", title_justify="left"
    )
    for column in ("candidate", "kind", "MASE", "WAPE", "MAE", "bias", "coverage", "Winkler"):
        table.add_column(column, justify="left" if column in {"candidate", "kind"} else "right", no_wrap=True)
    for name, row in comparison_table(record).iterrows():
        style = "bold green" if name == record.selection.winner else None
        table.add_row(
            str(name),
            str(row["kind"]),
            f"{row['mase']:.3f}",
            f"{row['wape']:.1%}",
            f"{row['mae']:.1f}",
            f"{row['bias']:+.1%}",
            f"{row['coverage']:.1%}",
            f"{row['winkler']:.1f}",
            style=style,
        )
    return table


def _levels_table(record: TrainingRecord) -> Table:
    """The winner's backtest error at every level of the hierarchy, by reconciliation method."""
    assert record.reconciliation is not None
    table = Table(title=f"{record.selection.winner} at every level, by reconciliation", title_justify="left")
    for column in ("method", "level", "WAPE", "MAE", "bias", "coverage"):
        table.add_column(column, justify="left" if column in {"method", "level"} else "right", no_wrap=True)
    for row in record.reconciliation.scores.itertuples(index=False):
        style = "bold green" if row.method == record.reconciliation.method else None
        coverage = "" if math.isnan(row.coverage) else f"{row.coverage:.1%}"
        table.add_row(
            row.method, row.level, f"{row.wape:.1%}", f"{row.mae:.1f}", f"{row.bias:+.1%}", coverage, style=style
        )
    return table


def render(record: TrainingRecord, logged: LoggedRuns, decision: Decision, version: str, *, console: Console) -> None:
    console.print(_table(record))
    console.print(record.selection.verdict)
    for line in combination_lines(record):
        console.print(escape(line))
    winner = record.explanations.get(record.selection.winner)
    if winner is not None and len(winner.drivers):
        console.print(f"For example: {escape(winner.drivers['sentence'].iloc[0])}")
    failed = [c for c, e in record.explanations.items() if not e.additivity_passed]
    if failed:
        console.print(f"[bold red]Explanations failed the additivity check for: {', '.join(failed)}[/]")
    console.print(f"Rule: {record.selection.rule}.")
    if record.reconciliation is not None:
        console.print(_levels_table(record))
        console.print(f"Totals reconciled by {escape(record.reconciliation.reason)}.")
    console.print(f"Time (s, {record.engine}): " + ", ".join(f"{k} {v:.1f}" for k, v in record.timings.items()))
    render_warnings(record, console=console)
    console.print(
        f"Logged to {logged.tracking_uri}: parent run {logged.parent_run_id} with "
        f"{len(logged.child_run_ids)} candidate runs. `make ui` opens it."
    )
    for check in decision.checks:
        if check.name == "champion_changed":
            console.print(f"[bold]Note:[/] {escape(check.detail)}.")
    name = record.experiment.name
    if decision.passed and logged.tracking_uri.startswith(("http://", "https://")):
        console.print(
            f"[bold green]Passed the gate:[/] version {version} of '{name}' is the challenger; on the team server an "
            f"approver makes it the champion: workbench promote {record.experiment.path} --version {version}"
        )
    elif decision.passed:
        console.print(f"[bold green]Promoted:[/] version {version} of '{name}' is now the champion.")
    else:
        console.print(f"[bold yellow]Not promoted:[/] version {version} of '{name}' is the challenger because:")
        for reason in decision.reasons:
            console.print(f"  - {escape(reason)}", soft_wrap=True)
        console.print("[bold]Next:[/]")
        for step in _next_steps(record, decision, version):
            console.print(f"  - {escape(step)}", soft_wrap=True)
