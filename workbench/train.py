"""The spine of `make train`: load -> validate -> features -> backtest -> select -> fit -> explain ->
audit -> log -> gate -> registry.

Each step is one call into the module that owns it. Everything is computed before anything is
logged, so bad input or a failed step never leaves a run behind; logging itself marks its runs
FAILED if it breaks part-way, and the registry is changed only as the very last step.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from workbench.audit import audit_candidate, status_quo
from workbench.backtest import rolling_origins, run_backtest
from workbench.config import Experiment, load_experiment
from workbench.data.contract import PERIOD, Frequency, Panel
from workbench.data.load import load_panel
from workbench.describe import comparison_table
from workbench.errors import ConfigError
from workbench.explain import explain_candidate
from workbench.featurize import build_feature_table, check_builders
from workbench.fit import fit_final
from workbench.record import LoggedRuns, TrainingRecord
from workbench.selection import select


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
    check_builders(experiment.features, panel, target=experiment.target, source=str(source))


@contextmanager
def _timed(timings: dict[str, float], stage: str):
    start = time.perf_counter()
    yield
    timings[stage] = round(time.perf_counter() - start, 3)


def train(experiment: Experiment, *, console: Console, timings: dict[str, float] | None = None) -> TrainingRecord:
    """Compute everything for one experiment; nothing is logged here."""
    timings = {} if timings is None else timings
    with _timed(timings, "load"), console.status("Loading and validating the panel"):
        panel = load_panel(experiment.data)
    check_experiment(experiment, panel)
    with _timed(timings, "features"), console.status("Building features"):
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
    progress = Progress(
        TextColumn("Backtest {task.fields[step]:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with _timed(timings, "backtest"), progress:
        task = progress.add_task("backtest", total=len(folds) * len(experiment.models), step="")
        result = run_backtest(
            table,
            experiment.models,
            folds,
            level=b.interval_level,
            min_calibration_folds=b.min_calibration_folds,
            seed=experiment.seed,
            on_step=lambda c, f: progress.update(task, advance=1, step=f"{c} @ {f.origin}"),
        )
    selection = select(
        result.summary,
        metric=experiment.selection.metric,
        margin=experiment.selection.margin,
        baselines={m.candidate for m in experiment.baselines},
        origins=len(folds),
        horizons=experiment.horizons,
    )
    with _timed(timings, "final_fit"), console.status("Refitting every candidate on all data"):
        fits = fit_final(table, experiment.models, bands=result.bands, seed=experiment.seed)
    with _timed(timings, "explain"), console.status("Explaining every candidate (SHAP)"):
        explanations = {
            spec.candidate: explain_candidate(
                spec,
                table=table,
                panel=panel,
                backtest=result,
                fit=fits[spec.candidate],
                config=experiment.explain,
                seed=experiment.seed,
            )
            for spec in experiment.models
        }
    with _timed(timings, "audit"), console.status("Auditing every candidate across groups of areas"):
        static = panel.static_table()
        baseline = result.predictions[result.predictions["candidate"] == status_quo(experiment)]
        audits = {
            spec.candidate: audit_candidate(
                spec.candidate,
                result.predictions[result.predictions["candidate"] == spec.candidate],
                static=static,
                config=experiment.audit,
                default_groupings=panel.spec.groups,
                seed=experiment.seed,
                baseline=baseline,
            )
            for spec in experiment.models
        }
    return TrainingRecord(experiment, panel, table, result, selection, fits, explanations, audits, timings)


def render(record: TrainingRecord, logged: LoggedRuns | None, *, console: Console) -> None:
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
    console.print(table)
    console.print(record.selection.verdict)
    winner = record.explanations.get(record.selection.winner)
    if winner is not None and len(winner.drivers):
        console.print(f"For example: {winner.drivers['sentence'].iloc[0]}")
    failed = [c for c, e in record.explanations.items() if not e.additivity_passed]
    if failed:
        console.print(f"[bold red]Explanations failed the additivity check for: {', '.join(failed)}[/]")
    console.print(f"Rule: {record.selection.rule}.")
    console.print("Time (s): " + ", ".join(f"{k} {v:.1f}" for k, v in record.timings.items()))
    if logged:
        console.print(
            f"Logged to {logged.tracking_uri}: parent run {logged.parent_run_id} with "
            f"{len(logged.child_run_ids)} candidate runs. `make ui` opens it."
        )
    if logged and logged.decision is not None:
        decision = logged.decision
        if decision.passed:
            console.print(
                f"[bold green]Promoted:[/] version {logged.version} of '{logged.registered_model}' is now the champion."
            )
        else:
            console.print(
                f"[bold yellow]Not promoted:[/] version {logged.version} of '{logged.registered_model}' is "
                "the challenger because:"
            )
            for reason in decision.reasons:
                console.print(f"  - {escape(reason)}", soft_wrap=True)


def run(experiment_path: Path, *, console: Console) -> TrainingRecord:
    from workbench.tracking import log_training

    experiment = load_experiment(experiment_path)
    console.print(f"[bold]Experiment[/] {experiment.name}: {experiment.description.strip()}")
    timings: dict[str, float] = {}
    record = train(experiment, console=console, timings=timings)
    with _timed(timings, "logging"), console.status("Logging to MLflow"):
        logged = log_training(record)
    render(record, logged, console=console)
    return record
