"""The workbench's one command line. The Makefile only calls this."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from workbench.errors import WorkbenchError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Predictive-services modelling workbench: area-by-period demand forecasts.",
)
ExperimentArg = typer.Argument(..., help="Path to an experiment YAML, e.g. experiments/owed_duty_next_quarter.yaml")


def _console() -> Console:
    # Piped output (CI logs, files) gets a width that fits the summary tables instead of 80 columns.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def _fail(error: WorkbenchError) -> None:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]error:[/] {escape(str(error))}")
    raise typer.Exit(error.exit_code)


def _log_unexpected() -> Path:
    """Write the traceback of an unexpected error to a log file and return its path."""
    import traceback
    from datetime import UTC, datetime

    from workbench.tracking.store import PROJECT_ROOT

    folder = PROJECT_ROOT / "outputs" / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"error-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}.log"
    path.write_text(traceback.format_exc())
    return path


@contextmanager
def _guard() -> Iterator[None]:
    """Known errors keep their clear message and exit status; a signal ends the command with 130 or
    143 after every open run is closed; anything unexpected prints one line and the path of a log
    with the traceback, and exits 1."""
    from workbench.engine import shutdown
    from workbench.interrupt import Interrupted, signals_raise

    try:
        with signals_raise():
            yield
    except WorkbenchError as error:
        _fail(error)
    except Interrupted as stop:
        shutdown()
        Console(stderr=True, highlight=False).print(
            f"[bold red]stopped:[/] {stop}; open runs were ended as KILLED and nothing was promoted"
        )
        raise typer.Exit(stop.exit_code) from None
    except typer.Exit:
        raise
    except Exception as error:
        shutdown()
        log = _log_unexpected()
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"[bold red]unexpected error:[/] {escape(type(error).__name__)}: {escape(str(error)[:300])}\n"
            f"The full traceback is in {log}"
        )
        raise typer.Exit(1) from None


@app.command()
def validate(experiment: Path = ExperimentArg) -> None:
    """Load the experiment's panel, check it against the contract and summarise it."""
    from workbench.config import load_experiment
    from workbench.data.history import require_history
    from workbench.data.load import load_panel
    from workbench.data.summary import render_summary, summarise

    console = _console()
    with _guard():
        config = load_experiment(experiment)
        with console.status("Loading and validating the panel"):
            panel = load_panel(config.data)
        require_history(panel, config)
    render_summary(console, summarise(panel))
    console.print("[green]The panel meets the contract.[/]")
    missing = config.report.missing()
    if missing:
        console.print(
            f"[yellow]Transparency record:[/] not provided yet: {', '.join(missing)}. Set them under 'report:' in "
            f"{experiment}; until then the model card and record say 'Not provided'.",
            soft_wrap=True,
        )


@app.command("compare")
def compare_champion(
    experiment: Path = ExperimentArg,
    version: str = typer.Option(None, help="The version to review (default: the latest registered)"),
) -> None:
    """A registered version against the champion: verdict and reasons, metrics, audit and drivers;
    printed, and logged to the version's training run as review/compare_champion.md."""
    from rich.markdown import Markdown

    from workbench.config import load_experiment
    from workbench.review import compare, markdown
    from workbench.tracking.review import champion_version, log_comparison, read_version

    console = _console()
    with _guard():
        name = load_experiment(experiment).name
        run = read_version(name, version)
        champion = champion_version(name)
        if champion is None:
            raise WorkbenchError(f"'{name}' has no champion yet; version {run.version} has nothing to be compared with")
        if champion == run.version:
            console.print(f"Version {run.version} of '{name}' is the champion; pass --version N to review another.")
            return
        text = markdown(compare(run, read_version(name, champion)))
        uri = log_comparison(run.run_id, text)
    console.print(Markdown(text))
    console.print(f"Logged to {uri}")


@app.command("compare-peers")
def compare_peers(
    out: Path = typer.Option(Path("outputs/compare"), help="Folder for the table and the panels"),
) -> None:
    """Compare the workbench with naive and statsforecast AutoETS on real public panels."""
    from workbench.compare import compare_peers as run

    path = run(out)
    _console().print(path.read_text(), markup=False)
    _console().print(f"Written to {path}")


@app.command()
def train(
    experiment: Path = ExperimentArg,
    jobs: int = typer.Option(None, "--jobs", min=1, help="Worker processes (default: every CPU this process may use)"),
    executor: str = typer.Option(None, "--executor", help="serial, loky (default) or dask"),
    scheduler: str = typer.Option(None, "--scheduler", help="dask.distributed scheduler address, e.g. tcp://host:8786"),
    quick: bool = typer.Option(
        False, "--quick", help="Exploratory: 2 backtest origins, explanations for the winner only; never registered"
    ),
) -> None:
    """Run an experiment end to end."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before any OpenMP runtime starts in this process
    with _guard():
        from workbench.engine import Engine, EngineSettings

        settings = EngineSettings(executor=executor, jobs=jobs, scheduler=scheduler)  # type: ignore[arg-type]
        # workers start importing the model libraries while this process imports the rest
        Engine(EngineSettings.resolve(jobs=jobs, executor=executor, scheduler=scheduler)).warm_up()
        from workbench.train import run

        run(experiment, console=_console(), settings=settings, quick=quick)


def _registry(experiment: Path):
    from workbench.config import load_experiment
    from workbench.tracking.registry import client

    config = load_experiment(experiment)
    return client(), config


@app.command()
def promote(
    experiment: Path = ExperimentArg,
    version: str = typer.Option(..., "--version", help="Registered model version to promote"),
) -> None:
    """Re-check the gate for a registered version and make it the champion only if every check passes."""
    from workbench.data.load import load_panel
    from workbench.record import contract_of
    from workbench.tracking.registry import GateRefused
    from workbench.tracking.registry import promote as promote_version

    with _guard():
        client, config = _registry(experiment)
        name = config.name
        try:
            decision = promote_version(
                client, name=name, version=version, contract=contract_of(config, load_panel(config.data))
            )
        except GateRefused as refused:
            dirty = "clean_tree:" in str(refused)
            raise GateRefused(
                f"{refused}\n"
                + (
                    "Next: commit your changes (`git commit -am '...'`) or stash them (`git stash`), then "
                    f"`make train EXP={experiment}` for a version trained from committed code.\n"
                    if dirty
                    else ""
                )
                + f"Next: `make compare-champion EXP={experiment} VERSION={version}` shows what changed "
                f"against the champion; to record a reviewer's approval, `make approve EXP={experiment} "
                f'VERSION={version} BY="..." NOTE="..."`, then `make promote EXP={experiment} VERSION={version}` again.'
            ) from None
    _console().print(escape(decision.summary()))
    _console().print(f"[bold green]Version {version} of '{name}' is now the champion.[/]")


@app.command()
def approve(
    experiment: Path = ExperimentArg,
    version: str = typer.Option(..., "--version", help="Registered model version"),
    by: str = typer.Option(..., "--by", help="Who approves"),
    note: str = typer.Option(..., "--note", help="Why"),
) -> None:
    """Record an approval of a version (who and why). Run `promote` afterwards to move the champion alias."""
    from workbench.tracking.registry import approve as approve_version

    with _guard():
        client, config = _registry(experiment)
        name = config.name
        approval = approve_version(client, name=name, version=version, by=by, note=note)
    _console().print(
        f"Version {version} of '{name}' approved by {escape(approval.by)} at {approval.at}. "
        f"Next: workbench promote {experiment} --version {version}"
    )


@app.command()
def status(experiment: Path = ExperimentArg) -> None:
    """List the registered versions of an experiment's model with their gate verdicts and aliases."""
    from mlflow.exceptions import MlflowException
    from rich.table import Table

    with _guard():
        client, config = _registry(experiment)
        name = config.name
        try:
            versions = client.search_model_versions(f"name='{name}'")
            aliases = client.get_registered_model(name).aliases if versions else {}
        except MlflowException as error:
            raise WorkbenchError(f"cannot read the registry at {client.tracking_uri}: {error.message}") from None
    by_version: dict[str, list[str]] = {}
    for alias, number in aliases.items():
        by_version.setdefault(str(number), []).append(alias)
    table = Table(title=f"Registered model '{name}'", title_justify="left")
    for column in ("version", "alias", "candidate", "gate", "metric", "commit", "reasons"):
        table.add_column(column)
    for v in sorted(versions, key=lambda v: int(v.version), reverse=True):
        t = v.tags
        table.add_row(
            str(v.version),
            ", ".join(by_version.get(str(v.version), [])),
            t.get("candidate", ""),
            t.get("gate.verdict", ""),
            f"{t.get('backtest.metric', '')} {t.get('backtest.value', '')}",
            t.get("git.commit", "")[:10],
            escape(t.get("gate.reasons", "")),
        )
    _console().print(table if versions else f"No versions of '{name}' yet: run make train first.")


@app.command()
def forecast(experiment: Path = ExperimentArg) -> None:
    """Forecast every area with the experiment's champion: CSV, HTML report, model card, transparency record."""
    from workbench.forecast import run_forecast

    with _guard():
        run_forecast(experiment, console=_console())


@app.command()
def synthesize(
    out: Path = typer.Option(Path("data/synthetic/england.csv"), help="Where to write the panel (.parquet or .csv)"),
    seed: int = typer.Option(None, help="Random seed (default: the built-in one)"),
    end: str = typer.Option(None, help="Last quarter, e.g. 2026Q2"),
) -> None:
    """Write the synthetic England panel to a file, e.g. to try the bring-your-own-panel path."""
    from workbench.data.synthetic.england import DEFAULT_END, DEFAULT_SEED, generate_england
    from workbench.io import write_atomically

    if out.suffix not in {".parquet", ".csv"}:
        _fail(WorkbenchError(f"cannot write '{out}': use a .parquet or .csv file name"))
    frame = generate_england(seed=DEFAULT_SEED if seed is None else seed, end=end or DEFAULT_END)
    written = frame.assign(period=frame["period"].astype(str))
    write_atomically(
        out,
        lambda tmp: (
            written.to_parquet(tmp, index=False) if out.suffix == ".parquet" else written.to_csv(tmp, index=False)
        ),
    )
    _console().print(f"Wrote {len(frame):,} rows to {out}")


@app.command()
def bench(
    experiment: Path = typer.Argument(Path("experiments/owed_duty_next_quarter.yaml"), help="Experiment to time"),
    sizes: str = typer.Option("default,large", help="Comma-separated sizes: default, large"),
    out: Path = typer.Option(Path("outputs/bench"), help="Folder for bench.md and bench.json"),
) -> None:
    """Time each pipeline stage and peak memory at the default and a large (33,755-area) size."""
    from rich.table import Table

    from workbench.bench import SIZES, run

    chosen = [s.strip() for s in sizes.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SIZES]
    if unknown:
        _fail(WorkbenchError(f"unknown size(s) {unknown}; known: {', '.join(SIZES)}"))
    console = _console()
    with console.status(f"Benchmarking {', '.join(chosen)} (each size in its own process)"):
        table = run(experiment, sizes=chosen, out=out)
    shown = Table(title=f"Benchmark of {experiment}", title_justify="left")
    for column in table.columns:
        shown.add_column(column, justify="right" if column == "seconds" else "left")
    for row in table.itertuples(index=False):
        shown.add_row(row.size, row.stage, f"{row.seconds:g}")
    console.print(shown)
    console.print(f"Written to {out / 'bench.md'} and {out / 'bench.json'}")


@app.command(name="audit-sim")
def audit_sim(
    seeds: int = typer.Option(100, help="Draws per scenario"),
    out: Path = typer.Option(Path("outputs/audit_sim"), help="Folder for audit_sim.md and audit_sim.csv"),
) -> None:
    """Calibrate the fairness audit: false refusals of a fair model and detection of planted under-forecasts."""
    from workbench.audit.simulate import run

    console = _console()
    with console.status(f"Simulating {seeds} draws per scenario on two panels"):
        text = run(seeds=seeds, out=out)
    console.print(text)
    console.print(f"Written to {out / 'audit_sim.md'} and {out / 'audit_sim.csv'}")


@app.command()
def ui(port: int = typer.Option(5000, help="Port on localhost")) -> None:
    """Start the MLflow UI on localhost against the workbench's tracking store."""
    import subprocess

    from workbench.tracking.store import artifact_root, tracking_uri

    uri = tracking_uri()
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        uri,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    root = artifact_root(uri)
    if root:
        command += ["--default-artifact-root", root]
    _console().print(
        f"MLflow UI for {uri} at http://127.0.0.1:{port}/#/experiments?workflowType=machine_learning "
        "(the classic machine-learning view; Ctrl+C to stop)"
    )
    raise typer.Exit(subprocess.call(command))


def main() -> None:  # pragma: no cover - entry point
    sys.exit(app())
