"""The execution engine: every fit and every explanation job is a task, run single-threaded.

Three executors share one interface, `Engine.map(function, tasks)`, which returns results in the
order of the tasks whatever order they finish in:

- `serial`: in this process, one task after another (`jobs: 1`; for debugging and tests);
- `loky`: a pool of worker processes through joblib, sized from the CPUs this process may use
  (affinity and cgroup quota, not the machine's count);
- `dask`: the workers of an existing dask.distributed cluster (`--executor dask --scheduler tcp://...`).

Inside every task BLAS and OpenMP are held to one thread with threadpoolctl, and worker processes
start with one thread per library in their environment, so no OpenMP thread spins beside another
process on a shared machine. Parallelism lives here and nowhere else: no model sets its own thread count.
"""

from __future__ import annotations

import math
import os
import signal
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from workbench.errors import ConfigError

ExecutorName = Literal["serial", "loky", "dask"]
Task = Callable[[Any], Any]  # one fit or explanation: any picklable function of one task
OnDone = Callable[[int], None] | None


class Finished(Protocol):
    """A finished future of either pool (concurrent.futures or dask): its (index, result) pair."""

    def result(self) -> tuple[int, Any]: ...


JOBS_VARIABLE = "WORKBENCH_JOBS"
# Below this many feature-table rows, and unless a number of workers is asked for, tasks run in
# this process. For the default experiment (9,768 rows) on 2 CPUs a pool of two halves the backtest
# (2.6 s against 4.5 s) but makes the whole command slower (26.9 s against 24.9 s): each worker
# spends about 2 s of CPU on its imports, and every task's rows travel to it.
SMALL_WORKLOAD_ROWS = 50_000
EXECUTOR_VARIABLE = "WORKBENCH_EXECUTOR"
SCHEDULER_VARIABLE = "WORKBENCH_SCHEDULER"
# The command's own process: one thread per library, the OpenMP wait policy at its default (with
# OMP_WAIT_POLICY=PASSIVE the default backtest took 38.6 s in one process against 7.3 s without it,
# 17 s of it in the kernel).
SINGLE_THREADED = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}
# Worker processes: the same, with passive OpenMP waits (without it a pool of two took 57 s for the
# default backtest against 13.8 s with it; see the note in README "The engine").
WORKER_ENV = {**SINGLE_THREADED, "OMP_WAIT_POLICY": "PASSIVE"}
# A worker idle this long stops: longer than any stage between two maps (at 60 s, workers warmed up
# before a 33,755-area panel was loaded timed out just as the backtest handed them work).
WORKER_IDLE_SECONDS = 600
# What the backtest's, final fits' and explanations' tasks import in a worker (see `Engine.warm_up`).
TASK_MODULES = ("models.gbm", "models.glm", "workbench.backtest", "workbench.explain")


def _cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs allowed by the cgroup's quota (v2 `cpu.max`, or v1 quota/period); None when unlimited."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_v1 = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period_v1 = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota_v1 <= 0 else quota_v1 / period_v1
    except (OSError, ValueError):
        return None


def available_cpus() -> int:
    """The CPUs this process may actually use: its affinity mask, capped by a cgroup quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        cpus = min(cpus, max(1, math.floor(quota)))
    return max(1, cpus)


@dataclass(frozen=True)
class EngineSettings:
    """How tasks run: resolved from the CLI, then the environment, then the experiment."""

    executor: ExecutorName = "loky"
    jobs: int | None = None  # None: every available CPU
    scheduler: str | None = None

    @classmethod
    def resolve(
        cls,
        *,
        jobs: int | None = None,
        executor: str | None = None,
        scheduler: str | None = None,
        experiment: EngineSettings | None = None,
    ) -> EngineSettings:
        base = experiment or cls()
        env_jobs = os.environ.get(JOBS_VARIABLE)
        if jobs is None and env_jobs:
            try:
                jobs = int(env_jobs)
            except ValueError:
                raise ConfigError(f"{JOBS_VARIABLE}={env_jobs!r} is not a whole number; set it to 1 or more") from None
        jobs = jobs if jobs is not None else base.jobs
        if jobs is not None and jobs < 1:
            raise ConfigError(f"jobs must be 1 or more, not {jobs}")
        chosen = executor or os.environ.get(EXECUTOR_VARIABLE) or base.executor
        address = scheduler or os.environ.get(SCHEDULER_VARIABLE) or base.scheduler
        if address and not executor and chosen != "dask":
            chosen = "dask"
        if chosen not in ("serial", "loky", "dask"):
            raise ConfigError(f"executor '{chosen}' is not one of serial, loky, dask")
        if chosen == "dask" and not address:
            raise ConfigError("executor 'dask' needs a scheduler address: --scheduler tcp://host:8786")
        if jobs == 1 and chosen == "loky":
            chosen = "serial"
        return cls(executor=chosen, jobs=jobs, scheduler=address)  # type: ignore[arg-type]

    def for_workload(self, rows: int) -> EngineSettings:
        """In this process when the work is small and nobody asked for workers; as set otherwise."""
        if self.executor == "loky" and self.jobs is None and rows < SMALL_WORKLOAD_ROWS:
            return EngineSettings(executor="serial", jobs=None, scheduler=None)
        return self

    @property
    def workers(self) -> int:
        return 1 if self.executor == "serial" else (self.jobs or available_cpus())

    def describe(self) -> str:
        if self.executor == "dask":
            return f"dask cluster at {self.scheduler}"
        if self.executor == "serial":
            return "1 process"
        return f"{self.workers} worker processes"


def single_threaded_environment() -> None:
    """For the command's own process, before any numeric library starts: one thread per library
    (settings already in the environment are kept)."""
    for key, value in SINGLE_THREADED.items():
        os.environ.setdefault(key, value)


@contextmanager
def single_threaded() -> Iterator[None]:
    """Hold every BLAS and OpenMP library loaded in this process to one thread."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def run_task(function: Callable[..., Any], task: Any) -> Any:
    """One task, single-threaded: what every executor calls in its worker."""
    with single_threaded():
        return function(task)


QUIET_BY_DEFAULT = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)
OWN_PACKAGES = ("workbench", "features", "models")


def _counted_task(function: Callable[..., Any], task: Any) -> tuple[Any, list[str]]:
    """`run_task`, with every warning the task raised caught and returned as a line, so that the
    engine can count them instead of each worker printing its first one."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # As Python does by default: a library's notices of its own future changes are for its
        # developers, not for the person training; the workbench's own deprecations still show.
        for category in QUIET_BY_DEFAULT:
            warnings.filterwarnings("ignore", category=category)
        for package in OWN_PACKAGES:
            warnings.filterwarnings("always", category=DeprecationWarning, module=package)
        result = run_task(function, task)
    return result, [warning_line(w) for w in caught]


def warning_line(caught: warnings.WarningMessage) -> str:
    """One line per kind of warning: its category, the first line of its message and where it was raised."""
    message = str(caught.message).strip().splitlines()[0] if str(caught.message).strip() else ""
    return f"{caught.category.__name__}: {message[:160]} ({Path(caught.filename).name}:{caught.lineno})"


def _in_process() -> EngineSettings:
    return EngineSettings(executor="serial")


@dataclass
class Engine:
    """Runs tasks as its settings say; `Engine()` runs them in this process, one after another."""

    settings: EngineSettings = field(default_factory=_in_process)
    warnings: Counter[str] = field(default_factory=Counter)  # warning line -> how many tasks' raised it

    def map(
        self,
        function: Callable[[Any], Any],
        tasks: Sequence[Any],
        *,
        on_done: Callable[[int], None] | None = None,
    ) -> list[Any]:
        """`function(task)` for every task, in the tasks' order; `on_done(i)` as each one finishes."""
        if not tasks:
            return []
        executor = self.settings.executor
        if executor == "serial" or (executor == "loky" and min(self.settings.workers, len(tasks)) == 1):
            counted = self._serial(function, tasks, on_done)
        elif executor == "dask":
            counted = self._dask(function, tasks, on_done)
        else:
            counted = self._loky(function, tasks, on_done)
        for _, lines in counted:
            self.warnings.update(lines)
        return [result for result, _ in counted]

    def warm_up(self, modules: Sequence[str] = TASK_MODULES) -> None:
        """Start the pool's workers now, without waiting; each imports what the tasks will need as it
        starts. A worker's imports take seconds, and meanwhile this process loads the panel and builds
        features. Nothing happens when tasks run in this process or on a cluster."""
        if self.settings.executor != "loky" or self.settings.workers < 2:
            return
        self._executor(self.settings.workers, tuple(modules)).submit(_import, ())  # starts every worker

    def warning_summary(self) -> list[str]:
        """Each kind of warning the tasks raised, once, with how many times: `56 x ConvergenceWarning: ...`."""
        return [f"{count} x {line}" for line, count in sorted(self.warnings.items(), key=lambda item: -item[1])]

    @staticmethod
    def _serial(function: Task, tasks: Sequence[Any], on_done: OnDone) -> list[tuple[Any, list[str]]]:
        results = []
        for i, task in enumerate(tasks):
            results.append(_counted_task(function, task))
            if on_done:
                on_done(i)
        return results

    @staticmethod
    def _executor(workers: int, modules: tuple[str, ...] = TASK_MODULES) -> Executor:
        """joblib's loky pool of worker processes, reused between calls; its workers start with the
        single-threaded environment, import `modules` and stay up between stages for as long as a large
        panel's load or final fits may take (they end with the command)."""
        from joblib.externals.loky import get_reusable_executor

        executor: Executor = get_reusable_executor(
            max_workers=workers,
            timeout=WORKER_IDLE_SECONDS,
            env=dict(WORKER_ENV),
            initializer=_import,
            initargs=(modules,),
        )
        return executor

    def _loky(self, function: Task, tasks: Sequence[Any], on_done: OnDone) -> list[Any]:
        from concurrent.futures import as_completed

        executor = self._executor(self.settings.workers)
        futures = [executor.submit(_indexed, function, i, task) for i, task in enumerate(tasks)]
        return _collect(as_completed(futures), len(tasks), on_done, cancel=lambda: [f.cancel() for f in futures])

    def _dask(self, function: Task, tasks: Sequence[Any], on_done: OnDone) -> list[Any]:
        from distributed import Client, as_completed

        with Client(self.settings.scheduler) as client:
            futures = [client.submit(_indexed, function, i, task, pure=False) for i, task in enumerate(tasks)]
            return _collect(as_completed(futures), len(tasks), on_done, cancel=lambda: client.cancel(futures))


def _collect(finished: Iterable[Finished], count: int, on_done: OnDone, *, cancel: Callable[[], object]) -> list[Any]:
    """Results in task order from futures as they finish; every pending task is cancelled on the way out."""
    results: list[Any] = [None] * count
    try:
        for future in finished:
            i, result = future.result()
            results[i] = result
            if on_done:
                on_done(i)
    except BaseException:
        cancel()
        raise
    return results


def start_asked_workers(settings: EngineSettings) -> None:
    """Workers asked for by name (`--jobs N`, WORKBENCH_JOBS) start importing at once, before this
    process spends seconds importing MLflow and loading the panel; settings the experiment holds, or
    the automatic choice, start them once the experiment and the panel are read."""
    resolved = EngineSettings.resolve(jobs=settings.jobs, executor=settings.executor, scheduler=settings.scheduler)
    if resolved.jobs is not None:
        Engine(resolved).warm_up()


def _import(modules: tuple[str, ...]) -> None:
    import importlib

    for module in modules:
        importlib.import_module(module)


def _indexed(function: Task, i: int, task: Any) -> tuple[int, tuple[Any, list[str]]]:
    return i, _counted_task(function, task)


def shutdown() -> None:
    """Stop the reusable worker pool now (on interruption), so no worker outlives the command."""
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is None:
        return
    # Kill the workers first: one blocked writing a large result into a pipe nobody reads any more
    # would otherwise keep the pool's manager thread, and so the command's exit, waiting for ever.
    for process in list(getattr(executor, "_processes", {}).values()):
        with suppress(OSError, TypeError):  # already gone, or never started
            os.kill(process.pid, signal.SIGKILL)
    executor.shutdown(wait=False, kill_workers=True)


__all__ = [
    "Engine",
    "EngineSettings",
    "available_cpus",
    "run_task",
    "shutdown",
    "single_threaded",
    "start_asked_workers",
]
