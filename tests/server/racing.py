"""Several client processes doing one thing against the team server at the same moment.

One launcher process imports what the clients need once, then forks a child per worker; the children
wait on a shared pipe and start together when it closes. So the race is between processes, each with
its own connections to the server, and it is tighter than between separately started interpreters, each
of which would spend seconds importing MLflow first. Nothing has connected to the server before the
fork, so no child inherits another's connection.

    python -m tests.server.racing KIND SHARED_JSON WORKER...

prints one JSON list of [exit status, output] per worker, in worker order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _swap(shared: dict[str, str], version: str) -> str:
    """Move `champion` to `version` if it is still `expected`; prints whether it swapped and the champion now."""
    from workbench.tracking.server import compare_and_set_champion

    swap = compare_and_set_champion(shared["name"], expected=shared["expected"], version=version, uri=shared["url"])
    return f"{swap.swapped} {swap.current}"


def _log_runs(shared: dict[str, str], worker: str) -> str:
    """As a data scientist: five runs with a metric and an artifact, then one registered version."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(shared["url"])
    for i in range(5):
        run = client.create_run(shared["experiment"], tags={"worker": worker})
        client.log_batch(run.info.run_id, metrics=[], params=[])
        client.log_metric(run.info.run_id, "mae", float(i))
        client.log_text(run.info.run_id, worker, "who.txt")
        client.set_terminated(run.info.run_id)
    client.create_model_version(shared["model"], run.info.artifact_uri + "/who.txt", run_id=run.info.run_id)
    return ""


WORK: dict[str, Callable[[dict[str, str], str], str]] = {"swap": _swap, "log-runs": _log_runs}


def _prepare() -> None:
    """Everything the children import, imported once here before they are forked."""
    import mlflow.utils.credentials
    import mlflow.utils.rest_utils  # noqa: F401
    from mlflow.tracking import MlflowClient  # noqa: F401

    import workbench.tracking.server  # noqa: F401


def fork_each(work: Callable[[str], str], workers: Sequence[str]) -> list[tuple[int, str]]:
    """`work(worker)` in a forked child per worker, all released at once; (exit status, output) in order."""
    go_read, go_write = os.pipe()
    children = []
    for worker in workers:
        out_read, out_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: wait for the start, work, report, and leave without the parent's clean-up
            os.close(go_write)
            os.close(out_read)
            os.dup2(2, 1)  # what MLflow prints goes to stderr; stdout is the launcher's report
            os.read(go_read, 1)
            try:
                status, output = 0, work(worker)
            except BaseException:
                status, output = 1, traceback.format_exc()
            with os.fdopen(out_write, "w") as report:
                report.write(output)
            os._exit(status)
        os.close(out_write)
        children.append((pid, out_read))
    os.close(go_read)
    os.close(go_write)  # every child's read returns now: they start together
    results = []
    for pid, out_read in children:
        with os.fdopen(out_read) as report:
            output = report.read()
        _, wait_status = os.waitpid(pid, 0)
        results.append((os.waitstatus_to_exitcode(wait_status), output))
    return results


def race(kind: str, shared: dict[str, str], workers: Sequence[str], timeout: float = 300) -> list[tuple[int, str]]:
    """Run the launcher for `kind` with the test's environment (its user and password); the workers' results."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.server.racing", kind, json.dumps(shared), *workers],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [(status, output) for status, output in json.loads(done.stdout)]


def main(kind: str, shared: str, *workers: str) -> None:
    _prepare()
    settings = json.loads(shared)
    print(json.dumps(fork_each(lambda worker: WORK[kind](settings, worker), workers)))


if __name__ == "__main__":
    main(*sys.argv[1:])
