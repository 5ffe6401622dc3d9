"""`make forecast` end to end: refuses without a champion, writes every output with disclosure
control, logs a linked run, and the HTML report works in a real headless browser. The outputs are
those of the session's report store (tests/e2e/conftest.py), trained and forecast once."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.conftest import TrainedStore
from tests.e2e.report_experiment import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, CONFIG


@pytest.fixture
def experiment(workdir: Path) -> Path:
    path = workdir / "report_test.yaml"
    path.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    return path


@pytest.fixture
def forecast_folder(report_store: TrainedStore) -> Path:
    """The folder `forecast` published for the session's report store: the only one, none half-written."""
    folders = list((report_store.folder / "outputs" / "forecasts" / "report_test").iterdir())
    assert len(folders) == 1 and not folders[0].name.startswith(".")
    return folders[0]


def test_forecast_without_a_champion_is_refused_and_writes_nothing(cli, workdir, store, experiment) -> None:
    result = cli("forecast", experiment)
    assert result.exit_code == 2
    assert "there is no champion for 'report_test'" in result.output
    assert not (workdir / "outputs").exists()


@pytest.mark.slow
def test_forecast_writes_every_output_and_logs_a_linked_run(forecast_folder: Path, report_store: TrainedStore) -> None:
    assert sorted(p.name for p in forecast_folder.iterdir()) == [
        "forecast.csv",
        "model_card.md",
        "report.html",
        "totals.csv",  # the experiment declares a hierarchy: regions and England, each the sum of its areas
        "transparency_record.json",
        "transparency_record.md",
    ]
    table = pd.read_csv(forecast_folder / "forecast.csv", dtype=str, keep_default_na=False)
    assert len(table) == 296 * 2 and set(table["period"]) == {"2023Q3", "2023Q4"}
    assert {
        "area_code",
        "area_name",
        "region",
        "forecast",
        "lower",
        "upper",
        "same_period_last_year",
        "change_vs_last_year",
        "flags",
        "drivers",
    } <= set(table.columns)
    # disclosure control: every published count is [c] or a multiple of 5 that is at least 10
    for column in ("forecast", "lower", "upper", "same_period_last_year"):
        shown = table.loc[table[column] != "[c]", column].str.replace(",", "").astype(float)
        assert (shown % 5 == 0).all() and (shown >= 10).all(), column
    scilly = table[table["area_code"] == "E06000053"].iloc[0]
    assert scilly["forecast"] == "[c]" and "fewer than 10" in scilly["drivers"]
    assert table["drivers"].str.contains("Compared with the last four quarters in this area").mean() > 0.9
    assert not table["forecast"].str.contains(",").any()  # plain numbers in the CSV, rounded as published

    client = MlflowClient(report_store.uri)
    runs = client.search_runs(
        [client.get_experiment_by_name("report_test").experiment_id],
        filter_string="tags.`workbench.run_type` = 'forecast'",
    )
    assert len(runs) == 1
    run = runs[0]
    assert run.data.tags["model.version"] == "1" and run.data.tags["model.name"] == "report_test"
    assert run.info.status == "FINISHED"
    assert {a.path for a in client.list_artifacts(run.info.run_id, "forecast")} >= {
        "forecast/report.html",
        "forecast/forecast.csv",
    }


@pytest.mark.slow
def test_model_card_and_transparency_record(forecast_folder: Path) -> None:
    card = (forecast_folder / "model_card.md").read_text()
    for heading in (
        "## Model details",
        "## Intended use",
        "## Data",
        "## Evaluation",
        "## Metrics by group (factors)",
        "## Fairness",
        "## Explanations",
        "## Caveats and recommendations",
    ):
        assert heading in card
    assert "Training and evaluation cut-off: 2023Q2" in card and "| region | London |" in card
    assert "fairness_audit: pass" in card
    assert re.search(r"Coverage by quintile of area size .*, nominal 80%: (\d+\.\d% / ){4}\d+\.\d%; weighted", card)
    record = json.loads((forecast_folder / "transparency_record.json").read_text())
    assert set(record["tier_1"]) == {"name", "description", "website", "contact_email"}
    assert set(record["tier_2"]) == {
        "owner_and_responsibility",
        "description_and_rationale",
        "deployment_context",
        "tool_specification",
        "development_data",
        "risks_mitigations_and_impact_assessments",
    }
    assert record["tier_2"]["tool_specification"]["model_architecture"] == "lightgbm_poisson_ratio"
    assert record["tier_1"]["website"] == "Not provided" and "website" in record["fields_not_provided"]
    assert record["tier_2"]["development_data"]["sensitive_attributes"]
    assert "**Not provided**" in (forecast_folder / "transparency_record.md").read_text()
    assert "TO COMPLETE" not in (forecast_folder / "transparency_record.md").read_text() + card


@pytest.mark.slow
def test_report_renders_in_a_headless_browser(forecast_folder: Path) -> None:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Chromium is not installed here; CI installs it and runs this test")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    report = forecast_folder / "report.html"
    assert report.stat().st_size < 2_000_000
    html = report.read_text()
    assert "http://" not in html and "https://" not in html  # self-contained: nothing to fetch
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=str(ARTIFACTS / "report-first-screen.png"))
        assert page.locator("h1").inner_text() == "Test forecast"
        assert page.locator("#area-table tbody tr").count() == 296 * 2
        assert page.locator("#row-count").inner_text() == "296 areas shown"  # the first period is selected
        page.fill("#filter-text", "Isles of Scilly")
        assert page.locator("#row-count").inner_text() == "1 areas shown"
        page.fill("#filter-text", "")
        page.click("#area-table th button[data-col='3']")  # sort by forecast, then largest first
        assert page.locator("#area-table th").nth(3).get_attribute("aria-sort") == "ascending"
        page.click("#area-table th button[data-col='3']")
        assert page.locator("#area-table th").nth(3).get_attribute("aria-sort") == "descending"
        first_area = page.locator("#area-table tbody tr:not([hidden]) td a").first
        first_area.click()
        target = page.locator("details.area[open]")
        assert target.count() == 1
        assert target.locator("svg[role='img'] desc").count() >= 1
        target.screenshot(path=str(ARTIFACTS / "report-area-section.png"))
        assert "Compared with the last four quarters in this area" in target.inner_text()
        page.keyboard.press("Tab")  # the page can be used from the keyboard
        assert page.evaluate("document.activeElement !== document.body")
        assert page.locator("details.area").count() == 296
        assert page.locator("h2").all_inner_texts()[:3] == ["Headline numbers", "Largest expected rises", "All areas"]
        browser.close()
    assert errors == []
    assert (ARTIFACTS / "report-first-screen.png").stat().st_size > 10_000
