"""`workbench` commands in processes of their own, without each paying for its imports.

A command whose signals, locks or concurrency are under test must run in a process of its own; it need
not spend seconds importing MLflow, pandas and the models first. `CommandServer` starts one process
that imports the command and its training stack once, and runs every command it is sent in a child
forked from itself: the command's own entry point (`workbench.cli:main`, what the installed
`workbench` runs) with the given arguments, working folder and environment, its output in files, its
exit status the process's. Commands sent together start together: their children wait on one pipe.
The server has opened no store, connection or thread before it forks, so a child inherits none.

    python -m tests.command_server   (reads one JSON request a line; answers with JSON lines)
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What a train, forecast or promotion imports; imported once, in the server, for every command.
PRELOAD = (
    "workbench.cli",
    "workbench.cli.training",
    "workbench.train",
    "workbench.forecast",
    "workbench.tracking.runs",
    "workbench.tracking.registry",
    "workbench.explain",
    "workbench.explain.figures",
    "workbench.audit",
    "workbench.plots",
    "mlflow.store.tracking.sqlalchemy_store",
)


def _child(arguments: list[str], cwd: str, env: dict[str, str], out: str, err: str, go: int) -> None:
    """In the forked child: become the command, then run it as `workbench` would; never returns."""
    code = 1
    try:
        os.read(go, 1)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        for fd, path in ((1, out), (2, err)):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        sys.argv = ["workbench", *arguments]
        from workbench.cli import main
        from workbench.process import exit_code

        try:
            main()  # ends the process with the command's exit status, unless a thread is still working
        except SystemExit as stop:
            code = exit_code(stop)
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(code)


def _serve() -> None:
    for module in PRELOAD:
        import_module(module)
    answer = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        go_read, go_write = os.pipe()
        pids = []
        for arguments, out, err in request["commands"]:
            pid = os.fork()
            if pid == 0:
                os.close(go_write)
                _child(arguments, request["cwd"], request["env"], out, err, go_read)
            pids.append(pid)
        os.close(go_read)
        print(json.dumps({"pids": pids}), file=answer, flush=True)
        os.close(go_write)  # every child starts now
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
        print(json.dumps({"codes": codes}), file=answer, flush=True)


class CommandServer:
    """The client: `run` one command or several together, as `subprocess.run` would report them."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.command_server"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.outputs = Path(tempfile.mkdtemp(prefix="workbench-commands-"))
        self.sent = 0
        self.pending = b""

    def _answer(self, timeout: float | None = None) -> dict:
        """The server's next line; None if nothing came within `timeout` seconds."""
        assert self.process.stdout is not None
        while b"\n" not in self.pending:
            ready, _, _ = select.select([self.process.stdout], [], [], timeout)
            if not ready:
                return {}
            chunk = os.read(self.process.stdout.fileno(), 65536)
            assert chunk, "the command server ended"
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return dict(json.loads(line))

    def run(
        self, *commands: Sequence[str], cwd: Path, env: dict[str, str], timeout: float = 300
    ) -> list[subprocess.CompletedProcess[str]]:
        """Run `commands` (each a list of `workbench` arguments) at the same moment; their results in order.
        A command still running after `timeout` seconds is killed and the test fails."""
        assert self.process.stdin is not None
        self.sent += 1
        streams = [
            (self.outputs / f"{self.sent}-{i}.out", self.outputs / f"{self.sent}-{i}.err") for i in range(len(commands))
        ]
        request = {
            "commands": [
                [list(map(str, c)), str(out), str(err)] for c, (out, err) in zip(commands, streams, strict=True)
            ],
            "cwd": str(cwd),
            "env": dict(env),
        }
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        self.process.stdin.flush()
        pids = self._answer()["pids"]
        finished = self._answer(timeout)
        if not finished:
            for pid in pids:
                os.kill(pid, signal.SIGKILL)  # the server reaps them and answers
            self._answer()
            raise AssertionError(f"workbench {commands} did not finish within {timeout:.0f} s")
        results = [
            subprocess.CompletedProcess(["workbench", *map(str, c)], code, out.read_text(), err.read_text())
            for c, code, (out, err) in zip(commands, finished["codes"], streams, strict=True)
        ]
        for out, err in streams:
            out.unlink()
            err.unlink()
        return results

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.outputs.rmdir()


if __name__ == "__main__":
    _serve()
