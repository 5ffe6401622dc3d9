"""A finished command ends at once, with its exit handlers run, its output flushed and its status kept."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workbench.process import exit_code

SCRIPT = """
import atexit, sys, threading, time
from pathlib import Path
from workbench.process import end
atexit.register(lambda: Path(sys.argv[1]).write_text("handlers ran"))
print("last words", end="")
if sys.argv[2] == "busy":  # a thread still at work gets the ordinary exit, which waits for it
    threading.Thread(target=lambda: (time.sleep(0.5), Path(sys.argv[1] + ".thread").write_text("done"))).start()
end(3)
"""


@pytest.mark.parametrize("mode", ["idle", "busy"])
def test_end_runs_exit_handlers_flushes_output_and_keeps_the_status(tmp_path, mode) -> None:
    marker = tmp_path / "marker"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(marker), mode], capture_output=True, text=True)
    assert done.returncode == 3
    assert done.stdout == "last words"
    assert marker.read_text() == "handlers ran"
    assert (tmp_path / "marker.thread").exists() == (mode == "busy")


def test_exit_codes_are_read_as_the_interpreter_reads_them(capsys) -> None:
    assert exit_code(SystemExit()) == 0
    assert exit_code(SystemExit(143)) == 143
    assert exit_code(SystemExit("no such experiment")) == 1
    assert "no such experiment" in capsys.readouterr().err
