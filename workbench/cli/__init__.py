"""The workbench's one command line. The Makefile only calls this.

Every command is listed here, in the order `workbench --help` shows them; each lives in the module of
its area: `data` (panels), `training`, `governance` (review, approve, promote, status), `forecasting`
(forecast and score), `tools` (benchmarks, comparisons, the MLflow UI) and `team` (the team server and
its accounts). `guard` turns errors and signals into messages and exit statuses.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from workbench.cli import data, forecasting, governance, team, tools, training

COMMANDS: dict[str, Callable[..., None]] = {
    "validate": data.validate,
    "compare": governance.compare_champion,
    "compare-peers": tools.compare_peers,
    "calibration-study": tools.calibration_study,
    "train": training.train,
    "promote": governance.promote,
    "approve": governance.approve,
    "status": governance.status,
    "forecast": forecasting.forecast,
    "score": forecasting.score,
    "synthesize": data.synthesize,
    "real-data": data.real_data,
    "bench": tools.bench,
    "audit-sim": tools.audit_sim,
    "ui": tools.ui,
    "whoami": team.whoami,
    "server": team.server,
    "move-in": team.move_in,
}
USERS_COMMANDS: dict[str, Callable[..., None]] = {"setup": team.users_setup, "add": team.users_add}

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Predictive-services modelling workbench: area-by-period demand forecasts.",
)


@app.callback()
def _private() -> None:
    """Before any command: MLflow's usage reporting is off for this process and its children."""
    from workbench.privacy import keep_private

    keep_private()


for name, command in COMMANDS.items():
    app.command(name)(command)

users_app = typer.Typer(no_args_is_help=True, help="Accounts and roles on the team server (run as its admin).")
for name, command in USERS_COMMANDS.items():
    users_app.command(name)(command)
app.add_typer(users_app, name="users")


def main() -> None:  # pragma: no cover - entry point
    """The `workbench` command: run it, then end the process without Python's slow teardown."""
    from workbench.process import end, exit_code

    try:
        app()
        code = 0
    except SystemExit as stop:
        code = exit_code(stop)
    end(code)
