"""The execution engine: every fit and every explanation job is a task, run single-threaded.

Three executors share one interface, `Engine.map(function, tasks)`, which returns results in the
order of the tasks whatever order they finish in:

- `serial`: in this process, one task after another (`jobs: 1`; for debugging and tests);
- `loky`: this process and a pool of worker processes through joblib share the tasks, as many
  processes in all as the CPUs this process may use (affinity and cgroup quota, not the machine's
  count): this process runs the next task itself whenever it is free, so `jobs: 2` on two CPUs is this
  process and one worker, which has only one process's imports to make;
- `dask`: the workers of an existing dask.distributed cluster (`--executor dask --scheduler tcp://...`).

BLAS and OpenMP are held to one thread with threadpoolctl while tasks run in this process and for the
whole life of a worker, and worker processes start with one thread per library in their environment,
so no OpenMP thread spins beside another process on a shared machine. Parallelism lives here and
nowhere else: no model sets its own thread count.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import warnings
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
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
_STARTED: weakref.WeakSet[Executor] = weakref.WeakSet()  # pools already warmed up (loky reuses one)
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
    jobs: int | None = None  # processes working on tasks, this one included; None: every available CPU
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

    @property
    def workers(self) -> int:
        """Processes working on tasks: this one and its pool's workers (1: this one alone)."""
        return 1 if self.executor == "serial" else (self.jobs or available_cpus())

    @property
    def pool_size(self) -> int:
        """Worker processes beside this one (0 when tasks run here alone or on a cluster)."""
        return self.workers - 1 if self.executor == "loky" else 0

    def describe(self) -> str:
        if self.executor == "dask":
            return f"dask cluster at {self.scheduler}"
        if self.pool_size == 0:
            return "1 process"
        return f"this process and {self.pool_size} worker process{'es' if self.pool_size > 1 else ''}"


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


QUIET_BY_DEFAULT = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)
OWN_PACKAGES = ("workbench", "features", "models")


def _counted_task(function: Callable[..., Any], task: Any) -> tuple[Any, list[str]]:
    """`function(task)`, with every warning the task raised caught and returned as a line, so that
    the engine can count them instead of each worker printing its first one. The caller holds the
    threads to one (`single_threaded`, or a worker's start)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # As Python does by default: a library's notices of its own future changes are for its
        # developers, not for the person training; the workbench's own deprecations still show.
        for category in QUIET_BY_DEFAULT:
            warnings.filterwarnings("ignore", category=category)
        for package in OWN_PACKAGES:
            warnings.filterwarnings("always", category=DeprecationWarning, module=package)
        result = function(task)
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
        if self.settings.executor == "dask":
            counted = self._dask(function, tasks, on_done)
        elif self.settings.pool_size == 0 or len(tasks) == 1:
            with single_threaded():
                counted = self._serial(function, tasks, on_done)
        else:
            with single_threaded():
                counted = self._shared(function, tasks, on_done)
        for _, lines in counted:
            self.warnings.update(lines)
        return [result for result, _ in counted]

    def warm_up(self, modules: Sequence[str] = TASK_MODULES) -> None:
        """Start the pool's workers now, without waiting; each imports what the tasks will need as it
        starts. A worker's imports take seconds, and meanwhile this process loads the panel and builds
        features. Nothing happens when tasks run in this process or on a cluster."""
        if self.settings.pool_size == 0:
            return
        executor = self._executor(self.settings.pool_size, tuple(modules))
        if executor not in _STARTED:  # once per pool: a queue of start-up tasks would outlive a refusal
            _STARTED.add(executor)
            executor.submit(_import, ())  # starts every worker

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
        single-threaded environment, import `modules`, hold BLAS and OpenMP to one thread, and stay up
        between stages for as long as a large panel's load or final fits may take (they end with the
        command)."""
        from joblib.externals.loky import get_reusable_executor

        executor: Executor = get_reusable_executor(
            max_workers=workers,
            timeout=WORKER_IDLE_SECONDS,
            env=dict(WORKER_ENV),
            initializer=_start_worker,
            initargs=(modules,),
        )
        return executor

    def _shared(self, function: Task, tasks: Sequence[Any], on_done: OnDone) -> list[tuple[Any, list[str]]]:
        """The tasks, in their order, shared between the pool and this process: each worker is handed
        the next task as it finishes one, and this process runs the next one itself whenever it is free."""
        executor = self._executor(self.settings.pool_size)
        queue = _TaskQueue(len(tasks))
        handed: list[Future[tuple[int, Any]]] = []  # appended by the pool's callback thread too
        refused: list[BaseException] = []

        def hand_out(_finished: object = None) -> None:
            i = queue.take()
            if i is None:
                return
            try:
                future = executor.submit(_indexed, function, i, tasks[i])
            except BaseException as error:  # a broken pool: this process re-raises it
                refused.append(error)
                return
            handed.append(future)
            future.add_done_callback(hand_out)

        results: list[Any] = [None] * len(tasks)
        collected: set[int] = set()

        def collect(futures: Iterable[Future[tuple[int, Any]]]) -> None:
            for future in futures:
                if future.done() and id(future) not in collected:
                    i, results[i] = future.result()  # a task's error is raised here
                    collected.add(id(future))
                    if on_done:
                        on_done(i)

        try:
            for _ in range(self.settings.pool_size):
                hand_out()
            here = 0
            while (i := queue.take()) is not None:
                results[i] = _counted_task(function, tasks[i])
                here += 1
                if on_done:
                    on_done(i)
                collect(list(handed))
            while len(collected) < len(tasks) - here:
                if refused:
                    raise refused[0]
                pending = [f for f in list(handed) if not f.done()]
                if pending:
                    wait(pending, return_when=FIRST_COMPLETED)
                collect(list(handed))
        except BaseException:
            queue.stop()
            for future in list(handed):
                future.cancel()
            raise
        return results

    def _dask(self, function: Task, tasks: Sequence[Any], on_done: OnDone) -> list[Any]:
        from distributed import Client, as_completed

        with Client(self.settings.scheduler) as client:
            futures = [
                client.submit(_indexed_single_threaded, function, i, task, pure=False) for i, task in enumerate(tasks)
            ]
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


def start_workers(settings: EngineSettings) -> None:
    """The pool's workers, as the command line and the environment set it, start importing at once,
    on the CPUs this process leaves free while it imports MLflow and loads the panel (an experiment's
    own engine settings apply once the experiment is read; a pool they do not use ends with the command)."""
    resolved = EngineSettings.resolve(jobs=settings.jobs, executor=settings.executor, scheduler=settings.scheduler)
    Engine(resolved).warm_up()


class _TaskQueue:
    """Positions of the tasks not yet handed out, taken by this process and by the pool's callbacks
    (which run in the pool's own thread)."""

    def __init__(self, count: int) -> None:
        self._next, self._count, self._lock = 0, count, threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            if self._next >= self._count:
                return None
            self._next += 1
            return self._next - 1

    def stop(self) -> None:
        with self._lock:
            self._next = self._count


def _import(modules: tuple[str, ...]) -> None:
    import importlib

    for module in modules:
        importlib.import_module(module)


def _start_worker(modules: tuple[str, ...]) -> None:
    """A worker's start: the tasks' modules imported, and BLAS and OpenMP held to one thread for its
    whole life (libraries it loads later read the one-thread environment it started with)."""
    from threadpoolctl import threadpool_limits

    _import(modules)
    threadpool_limits(limits=1)


def _indexed(function: Task, i: int, task: Any) -> tuple[int, tuple[Any, list[str]]]:
    return i, _counted_task(function, task)


def _indexed_single_threaded(function: Task, i: int, task: Any) -> tuple[int, tuple[Any, list[str]]]:
    """A task on a cluster's worker, whose threads this project did not set up."""
    with single_threaded():
        return _indexed(function, i, task)


def shutdown(*, at_once: bool = False) -> None:
    """Stop the reusable worker pool, so no worker outlives the command: at the end of a command its
    idle workers are stopped in order; on interruption (`at_once`) they are killed first."""
    import sys

    if "joblib.externals.loky.reusable_executor" not in sys.modules:  # no pool was ever started
        return
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is None or executor._flags.shutdown:
        return
    if at_once:
        # A worker blocked writing a large result into a pipe nobody reads any more would otherwise
        # keep the pool's manager thread, and so the command's exit, waiting for ever.
        for process in list(getattr(executor, "_processes", {}).values()):
            with suppress(OSError, TypeError):  # already gone, or never started
                os.kill(process.pid, signal.SIGKILL)
        executor.shutdown(wait=False, kill_workers=True)
        return
    # Idle, or still starting (its workers' first task, their imports, may be queued): loky's own
    # order, which never races its manager thread.
    executor.shutdown(wait=True, kill_workers=True)


__all__ = [
    "Engine",
    "EngineSettings",
    "available_cpus",
    "shutdown",
    "single_threaded",
    "start_workers",
]
