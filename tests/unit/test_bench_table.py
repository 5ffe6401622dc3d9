"""`make bench`'s table: ratios are taken from the runs they name."""

from __future__ import annotations

from workbench.bench import markdown


def _run(backtest: float, total: float, engine: str) -> dict:
    return {"seconds": {"backtest": backtest, "total": total}, "peak_mb": 500.0, "engine": engine}


def test_the_speed_up_compares_one_process_with_the_pool_and_the_load_ratio_with_the_quiet_run() -> None:
    results = {
        "default": _run(8.0, 20.0, "1 process"),
        "default, 2 busy processes": _run(12.0, 30.0, "1 process"),
        "default, 1 process": _run(9.0, 21.0, "1 process"),
        "default, 2 processes": _run(5.0, 16.0, "this process and 1 worker process"),
    }
    text = markdown(results, {})
    assert "| backtest | 1.50 |" in text  # 12 / 8 beside two busy processes
    assert "| total | 1.50 |" in text
    assert "Backtest speed-up from one process to this process and 1 worker process: 1.80x." in text  # 9 / 5


def test_repeated_runs_are_summarised_by_their_median_per_stage() -> None:
    from workbench.bench import _median

    runs = [_run(8.0, 20.0, "1 process"), _run(30.0, 50.0, "1 process"), _run(9.0, 21.0, "1 process")]
    runs[1]["peak_mb"] = 900.0
    summary = _median(runs)
    assert summary["seconds"] == {"backtest": 9.0, "total": 21.0}  # one slow outlier does not move it
    assert summary["peak_mb"] == 900.0 and summary["runs"] == 3
    assert "| runs | 3 |" in markdown({"default": summary}, {})
