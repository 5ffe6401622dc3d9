"""The workbench's one command line. The Makefile only calls this."""

from __future__ import annotations

import sys
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


@app.command()
def validate(experiment: Path = ExperimentArg) -> None:
    """Load the experiment's panel, check it against the contract and summarise it."""
    from workbench.config import load_experiment
    from workbench.data.load import load_panel
    from workbench.data.summary import render_summary, summarise

    console = _console()
    try:
        config = load_experiment(experiment)
        with console.status("Loading and validating the panel"):
            panel = load_panel(config.data)
    except WorkbenchError as error:
        _fail(error)
    render_summary(console, summarise(panel))
    console.print("[green]The panel meets the contract.[/]")


@app.command()
def train(experiment: Path = ExperimentArg) -> None:
    """Run an experiment end to end."""
    from workbench.train import run

    try:
        run(experiment, console=_console())
    except WorkbenchError as error:
        _fail(error)


def _registry(experiment: Path):
    import mlflow
    from mlflow.tracking import MlflowClient

    from workbench.config import load_experiment
    from workbench.tracking import tracking_uri

    config = load_experiment(experiment)
    mlflow.set_tracking_uri(tracking_uri())
    return MlflowClient(tracking_uri()), config.name


@app.command()
def promote(
    experiment: Path = ExperimentArg,
    version: str = typer.Option(..., "--version", help="Registered model version to promote"),
) -> None:
    """Re-check the gate for a registered version and make it the champion only if every check passes."""
    from workbench.tracking.registry import promote as promote_version

    try:
        client, name = _registry(experiment)
        decision = promote_version(client, name=name, version=version)
    except WorkbenchError as error:
        _fail(error)
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

    try:
        client, name = _registry(experiment)
        approval = approve_version(client, name=name, version=version, by=by, note=note)
    except WorkbenchError as error:
        _fail(error)
    _console().print(
        f"Version {version} of '{name}' approved by {escape(approval.by)} at {approval.at}. "
        f"Next: workbench promote {experiment} --version {version}"
    )


@app.command()
def status(experiment: Path = ExperimentArg) -> None:
    """List the registered versions of an experiment's model with their gate verdicts and aliases."""
    from rich.table import Table

    try:
        client, name = _registry(experiment)
        versions = client.search_model_versions(f"name='{name}'")
        aliases = client.get_registered_model(name).aliases if versions else {}
    except WorkbenchError as error:
        _fail(error)
    except Exception:
        versions, aliases = [], {}
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

    try:
        run_forecast(experiment, console=_console())
    except WorkbenchError as error:
        _fail(error)


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
    _console().print(f"MLflow UI for {uri} at http://127.0.0.1:{port} (Ctrl+C to stop)")
    raise typer.Exit(subprocess.call(command))


users_app = typer.Typer(no_args_is_help=True, help="Accounts and roles on the team server (run as its admin).")
app.add_typer(users_app, name="users")


def _auth_client():
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


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@app.command("move-in")
def move_in(
    source: str = typer.Option(None, "--from", help="Local store to copy (default: the project's mlruns.db)"),
) -> None:
    """Copy the local store's runs and registered models to the server in MLFLOW_TRACKING_URI (repeatable)."""
    from mlflow.tracking import MlflowClient

    from workbench.tracking.move_in import move_in as copy_store
    from workbench.tracking.server import is_server
    from workbench.tracking.store import DEFAULT_DB, PROJECT_ROOT, tracking_uri

    target = tracking_uri()
    if not is_server(target):
        _fail(WorkbenchError("set MLFLOW_TRACKING_URI to the team server's http:// address to move in"))
    origin = source or f"sqlite:///{PROJECT_ROOT / DEFAULT_DB}"
    report = copy_store(MlflowClient(origin), MlflowClient(target), say=_console().print)
    _console().print(f"Moved {origin} to {target}: {report.summary()}")


def main() -> None:  # pragma: no cover - entry point
    sys.exit(app())
