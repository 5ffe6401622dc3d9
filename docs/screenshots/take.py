"""Regenerate the README's screenshots (`make screenshots`).

Trains the default experiment twice into a throwaway MLflow store: as it is (the champion), then a
variant without its covariate features under the same name (the gate refuses it), and adds one
`--quick` run. Compares the
refused version with the champion and publishes the champion's forecast. Then, in Chromium: the
report at desktop and phone (390 px) widths and the first page of its printed layout, the MLflow
runs list in the classic view with metric and verdict columns, and the refused run's page. Each PNG
is cropped, resized and reduced to a palette so it stays well under 300 KB.

Run from a committed tree: the gate refuses a train from a dirty one, and there would be no champion.
Needs Chromium on the PATH (`.ci/run` installs it) and the dev dependencies (playwright).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
BIN = ROOT / ".venv" / "bin"
EXPERIMENT = ROOT / "experiments" / "owed_duty_next_quarter.yaml"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
MAX_BYTES = 300_000
A4 = {"width": 794, "height": 1123}  # CSS pixels at 96 dpi


def _run(*args: str | Path, cwd: Path, env: dict[str, str], allowed: tuple[int, ...] = (0,)) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    print(done.stdout[-2000:], file=sys.stderr)
    if done.returncode not in allowed:
        sys.exit(f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stdout


def _challenger(folder: Path) -> Path:
    """The default experiment without its covariate features, under the same name."""
    config = yaml.safe_load(EXPERIMENT.read_text())
    config["features"] = [f for f in config["features"] if f["builder"] != "covariate"]
    config["description"] = config["description"].strip() + " (without the covariates)"
    path = folder / "challenger" / EXPERIMENT.name
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(1)
    sys.exit(f"the MLflow UI did not answer at {url} within {seconds:.0f} s")


def _shrink(path: Path, *, width: int) -> None:
    """At most `width` pixels wide, as a 256-colour palette PNG."""
    from PIL import Image

    image = Image.open(path).convert("RGB")
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    if path.stat().st_size > MAX_BYTES:
        sys.exit(f"{path.name} is {path.stat().st_size:,} bytes, over {MAX_BYTES:,}: crop it further")


def _ids(uri: str) -> tuple[str, str, str]:
    """The experiment id, the champion's training run and the refused version's training run."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("owed_duty_next_quarter")
    runs = client.search_runs([experiment.experiment_id], filter_string="tags.verdict != ''")
    by_verdict = {r.data.tags["verdict"]: r.info.run_id for r in runs}
    return experiment.experiment_id, by_verdict["pass"], by_verdict["fail"]


def _report_shots(browser, report: Path) -> None:
    desktop = browser.new_page(viewport={"width": 1280, "height": 900})
    desktop.goto(report.as_uri())
    desktop.screenshot(path=str(OUT / "report-desktop.png"))
    _shrink(OUT / "report-desktop.png", width=1280)

    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    phone.goto(report.as_uri())
    phone.screenshot(path=str(OUT / "report-phone.png"))
    _shrink(OUT / "report-phone.png", width=390 * 2)

    printed = browser.new_page(viewport=A4)
    printed.goto(report.as_uri())
    printed.emulate_media(media="print")
    printed.screenshot(path=str(OUT / "report-print-first-page.png"), clip={"x": 0, "y": 0, **A4})
    _shrink(OUT / "report-print-first-page.png", width=A4["width"])


def _mlflow_shots(browser, base: str, experiment_id: str, refused_run: str) -> None:
    page = browser.new_page(viewport={"width": 1900, "height": 520})
    page.goto(f"{base}/#/experiments/{experiment_id}?workflowType=machine_learning")
    page.wait_for_selector("text=· exploratory ·", timeout=120_000)
    _close_assistant(page)
    _show_columns(page, ["Dataset", "Source", "Models"], ["mase", "wape", "bias", "coverage", "gate_passed"])
    _show_columns(page, [], ["mase_vs_champion", "verdict"])
    _widen(page, "Run Name", by=320)
    page.screenshot(path=str(OUT / "mlflow-runs.png"))
    _shrink(OUT / "mlflow-runs.png", width=1900)

    run = browser.new_page(viewport={"width": 1280, "height": 1000})
    run.goto(f"{base}/#/experiments/{experiment_id}/runs/{refused_run}?workflowType=machine_learning")
    run.wait_for_selector("text=Decision: not promoted", timeout=120_000)
    _close_assistant(run)
    more = run.get_by_text("Show more", exact=True)
    if more.count():  # the whole description: the decision, every reason and the backtest table
        more.first.click()
    run.screenshot(path=str(OUT / "mlflow-refused-run.png"))
    _shrink(OUT / "mlflow-refused-run.png", width=1280)


def _close_assistant(page) -> None:
    """The UI opens its assistant panel beside the page; it is not part of what a reviewer reads."""
    close = page.get_by_role("button", name="Close", exact=True)
    if close.count():
        close.first.click()


def _show_columns(page, hide: list[str], show: list[str]) -> None:
    """Toggle columns in the runs list's column selector (each entry is a checkbox)."""
    page.get_by_role("button", name="Columns", exact=True).click()
    menu = page.locator("[role=dialog]")
    for name in [*hide, *show]:
        menu.get_by_text(name, exact=True).first.click()
    page.keyboard.press("Escape")


def _widen(page, column: str, *, by: int) -> None:
    """Drag the column's right edge, so run names are read whole."""
    box = page.locator(".ag-header-cell", has_text=column).first.bounding_box()
    x, y = box["x"] + box["width"] - 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for dx in range(0, by + 1, 20):
        page.mouse.move(x + dx, y)
    page.mouse.up()


def main() -> None:
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    if dirty.strip():
        sys.exit("commit or stash your changes first: the gate refuses a train from a dirty tree")
    if not shutil.which("chromium"):
        sys.exit("Chromium is not on the PATH: apt-get install chromium (as .ci/run does)")
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="workbench-screenshots-"))
    uri = f"sqlite:///{work / 'mlruns.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    challenger = _challenger(work)
    _run(BIN / "workbench", "train", EXPERIMENT, cwd=work, env=env)
    _run(BIN / "workbench", "train", challenger, cwd=work, env=env)
    _run(BIN / "workbench", "train", EXPERIMENT, "--quick", cwd=work, env=env)
    _run(BIN / "workbench", "compare", challenger, "--version", "2", cwd=work, env=env)
    _run(BIN / "workbench", "forecast", EXPERIMENT, cwd=work, env=env)
    (report,) = (work / "outputs" / "forecasts").glob("*/*/report.html")
    experiment_id, _, refused_run = _ids(uri)

    port = _free_port()
    ui = subprocess.Popen(
        [BIN / "workbench", "ui", "--port", str(port)],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/health")
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS)
            _report_shots(browser, report)
            _mlflow_shots(browser, f"http://127.0.0.1:{port}", experiment_id, refused_run)
            browser.close()
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        ui.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    for png in sorted(OUT.glob("*.png")):
        print(f"{png.relative_to(ROOT)}: {png.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
