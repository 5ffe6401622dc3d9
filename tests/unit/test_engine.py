"""The execution engine: pool size from usable CPUs, settings precedence, results in task order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbench import engine
from workbench.engine import Engine, EngineSettings, available_cpus
from workbench.errors import ConfigError


def test_the_pool_is_sized_from_the_affinity_mask_not_the_machine(monkeypatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {3})
    monkeypatch.setattr(engine, "_cgroup_quota", lambda: None)
    assert available_cpus() == 1
    assert EngineSettings(executor="loky").workers == 1


def test_a_cgroup_quota_caps_the_pool(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert engine._cgroup_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert engine._cgroup_quota(tmp_path) is None
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3})
    monkeypatch.setattr(engine, "_cgroup_quota", lambda: 1.5)
    assert available_cpus() == 1


def test_command_line_beats_environment_beats_experiment(monkeypatch) -> None:
    monkeypatch.delenv("WORKBENCH_JOBS", raising=False)
    experiment = EngineSettings(executor="loky", jobs=3)
    assert EngineSettings.resolve(experiment=experiment).jobs == 3
    monkeypatch.setenv("WORKBENCH_JOBS", "2")
    assert EngineSettings.resolve(experiment=experiment).jobs == 2
    assert EngineSettings.resolve(jobs=1, experiment=experiment).executor == "serial"


def test_bad_engine_settings_are_refused_with_the_fix(monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_JOBS", "two")
    with pytest.raises(ConfigError, match="WORKBENCH_JOBS='two' is not a whole number"):
        EngineSettings.resolve()
    monkeypatch.delenv("WORKBENCH_JOBS")
    with pytest.raises(ConfigError, match="executor 'dask' needs a scheduler address"):
        EngineSettings.resolve(executor="dask")
    with pytest.raises(ConfigError, match="jobs must be 1 or more"):
        EngineSettings.resolve(jobs=0)
    assert EngineSettings.resolve(scheduler="tcp://10.0.0.5:8786").executor == "dask"


def _slow_square(x: int) -> tuple[int, int, str | None]:
    import time

    time.sleep(0.05 * (5 - x))  # later tasks finish first
    return x * x, os.getpid(), os.environ.get("OMP_NUM_THREADS")


def _blas_threads(_x: int) -> int:
    import numpy  # noqa: F401 - loads its BLAS
    from threadpoolctl import threadpool_info

    return max((i["num_threads"] for i in threadpool_info()), default=1)


def test_results_come_back_in_task_order_from_this_process_and_its_worker() -> None:
    """jobs=2: this process and one worker share the tasks; the worker is handed the first."""
    results = Engine(EngineSettings(executor="loky", jobs=2)).map(_slow_square, list(range(5)))
    assert [r[0] for r in results] == [0, 1, 4, 9, 16]
    pids = {pid for _, pid, _ in results}
    assert len(pids) == 2 and os.getpid() in pids
    assert {threads for _, pid, threads in results if pid != os.getpid()} == {"1"}  # a worker's environment


def test_every_task_runs_single_threaded_in_process_too() -> None:
    assert Engine().map(_blas_threads, [0, 1]) == [1, 1]
    assert Engine(EngineSettings(executor="loky", jobs=2)).map(_blas_threads, [0, 1]) == [1, 1]


def test_progress_is_reported_once_per_task() -> None:
    seen: list[int] = []
    Engine(EngineSettings(executor="loky", jobs=2)).map(_slow_square, list(range(4)), on_done=seen.append)
    assert sorted(seen) == [0, 1, 2, 3]


RAISED_HERE = 'warnings.warn("a different kind"'


def _line_of(text: str) -> int:
    """The line of this file where `text` first appears (where a warning under test is raised)."""
    return next(n for n, line in enumerate(Path(__file__).read_text().splitlines(), 1) if line.strip().startswith(text))


def _warns(x: int) -> int:
    import warnings

    warnings.warn(f"did not converge after {x % 2} tries", RuntimeWarning, stacklevel=1)
    if x == 0:
        warnings.warn("a different kind", UserWarning, stacklevel=1)
        # a library's notice of its own future change, which Python does not show by default
        warnings.warn_explicit("will change", PendingDeprecationWarning, "colors.py", 47, module="somelib.colors")
        warnings.warn_explicit("old name", DeprecationWarning, "colors.py", 48, module="somelib.colors")
    if x == 1:  # the workbench's own deprecation is shown
        warnings.warn_explicit("use the new key", DeprecationWarning, "config.py", 9, module="workbench.config")
    return x


@pytest.mark.parametrize("settings", [EngineSettings(executor="serial"), EngineSettings(executor="loky", jobs=2)])
def test_warnings_from_tasks_are_counted_once_per_kind_not_shown_per_fit(settings, recwarn) -> None:
    """Python shows a repeated warning once per process, so workers undercount it; the engine
    counts every task's warnings and summarises each kind once."""
    eng = Engine(settings)
    assert eng.map(_warns, list(range(6))) == list(range(6))
    summary = eng.warning_summary()
    assert len(summary) == 4
    assert summary[0].startswith("3 x RuntimeWarning: did not converge after")
    assert summary[1].startswith("3 x RuntimeWarning: did not converge after")
    assert set(summary[2:]) == {
        "1 x DeprecationWarning: use the new key (config.py:9)",
        f"1 x UserWarning: a different kind (test_engine.py:{_line_of(RAISED_HERE)})",
    }
    assert not [s for s in summary if "will change" in s or "old name" in s]
    assert not [w for w in recwarn if "converge" in str(w.message)]  # none escaped to this process


def test_warming_up_starts_every_worker_of_a_pool_and_nothing_in_process(tmp_path, monkeypatch) -> None:
    """Workers import the tasks' modules while the command is still building features."""
    import time

    from joblib.externals.loky import reusable_executor

    from workbench.engine import shutdown

    shutdown()
    before = getattr(reusable_executor, "_executor", None)
    Engine(EngineSettings(executor="serial")).warm_up()
    assert getattr(reusable_executor, "_executor", None) is before  # no pool started for in-process work
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "marks_its_import.py").write_text(
        f"import os, pathlib\npathlib.Path({str(tmp_path)!r}, f'imported-{{os.getpid()}}').touch()\n"
    )
    Engine(EngineSettings(executor="loky", jobs=3)).warm_up(["marks_its_import"])  # this process and two workers
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("imported-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(list(tmp_path.glob("imported-*"))) == 2  # each of the two workers imported it once
    shutdown()


def _fails_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"task {x} failed")
    return x


@pytest.mark.parametrize("failing_first", [False, True])
def test_a_failing_task_stops_the_map_with_its_error_wherever_it_ran(failing_first) -> None:
    """The worker is handed the first task and this process the next: the failure is raised from either."""
    tasks = [3, 0, 1, 2, 4] if failing_first else [0, 3, 1, 2, 4]
    with pytest.raises(ValueError, match="task 3 failed"):
        Engine(EngineSettings(executor="loky", jobs=2)).map(_fails_on_three, tasks)
    assert Engine(EngineSettings(executor="loky", jobs=2)).map(_fails_on_three, [0, 1, 2]) == [0, 1, 2]
