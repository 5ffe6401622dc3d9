"""Everything `make forecast` publishes, read as an attacker and as a reader would:

- a suppressed area ([c], primary or secondary) cannot be recovered from any published output: no
  number is tied to it anywhere (driver percentages, charts, intervals, CSV, model card, record), and
  region totals only ever cover two or more suppressed areas, and a published total never covers
  exactly one withheld part (an area, or a region in the national total);
- numbers are in GOV.UK style everywhere (separators, rounding, one-decimal percentages);
- transparency fields come from `report:`, and missing ones say "Not provided";
- the report works in Chromium at desktop and phone widths and prints every section.

The outputs are the session's (`published`, tests/e2e/conftest.py): the report experiment trained and
forecast once, with the transparency fields of PROVIDED.
"""

from __future__ import annotations

import csv
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.e2e.report_experiment import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, PROVIDED

COUNT = re.compile(r"^(\d{1,3}(,\d{3})*|\[c\])$")
CHANGE = re.compile(r"^([+-]\d[\d,]*\.\d%|no change|\[c\]|)$")
NUMBER = re.compile(r"\d[\d,]*(\.\d+)?")


def _rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "forecast.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


class _Text(HTMLParser):
    """Visible text of the report (not styles, scripts or SVG geometry), by area section."""

    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.section: str | None = None
        self.depth = 0
        self.text: dict[str | None, list[str]] = {}
        self.svgs: dict[str | None, int] = {}

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if tag in ("style", "script"):
            self.skip += 1
        if tag == "details" and (attrs.get("id") or "").startswith("area-"):
            self.section = attrs["id"].removeprefix("area-")
        if tag == "svg":
            self.svgs[self.section] = self.svgs.get(self.section, 0) + 1

    def handle_endtag(self, tag) -> None:
        if tag in ("style", "script"):
            self.skip -= 1
        if tag == "details":
            self.section = None

    def handle_data(self, data) -> None:
        if not self.skip:
            self.text.setdefault(self.section, []).append(data)


def _numbers(text: str, *, allowed: set[str]) -> list[str]:
    """Numbers in `text` other than periods (2023Q3), the threshold and the interval level."""
    text = re.sub(r"\b\d{4}Q\d\b|\b\d{4}\b", " ", text)
    return [m.group(0) for m in NUMBER.finditer(text) if m.group(0) not in allowed]


def test_a_suppressed_area_cannot_be_recovered_from_any_published_output(published: Path) -> None:
    rows = _rows(published)
    hidden = [r for r in rows if r["suppressed"]]
    assert {r["suppressed"] for r in hidden} == {"primary", "secondary"}  # both kinds are exercised
    allowed = {"10", "80"}  # the threshold ("fewer than 10") and the interval level, nothing about the area
    parser = _Text()
    parser.feed((published / "report.html").read_text())
    card = (published / "model_card.md").read_text()
    record = (published / "transparency_record.md").read_text() + (published / "transparency_record.json").read_text()
    for row in hidden:
        # the CSV: every count, interval bound and change is [c]; the sentence carries no number about it
        assert row["forecast"] == row["lower"] == row["upper"] == row["change_vs_last_year"] == "[c]", row
        assert "%" not in row["drivers"] and _numbers(row["drivers"], allowed=allowed) == [], row["drivers"]
        # the report: no chart at all (no history, no drivers), no number in its section
        section = " ".join(parser.text.get(row["area_code"], []))
        assert section, row["area_code"]
        assert parser.svgs.get(row["area_code"], 0) == 0, row["area_code"]
        assert "%" not in section and _numbers(section, allowed=allowed) == [], section
        # the model card and the record never name an area
        assert row["area_code"] not in card and row["area_code"] not in record
    # the table of all areas: a suppressed area's cells say [c]
    html = (published / "report.html").read_text()
    for row in hidden:
        cells = re.search(rf'href="#area-{row["area_code"]}">.*?</tr>', html, re.S).group(0)
        assert _numbers(re.sub(r"<[^>]+>|E0\d{7}", " ", cells), allowed=allowed) == [], cells
    # totals: a region total never covers a single suppressed area, so subtraction finds only a sum
    by_group: dict[tuple[str, str], int] = {}
    for row in hidden:
        key = (row["region"], row["period"])
        by_group[key] = by_group.get(key, 0) + 1
    assert by_group and min(by_group.values()) >= 2, by_group
    # the published totals: withheld ones say [c] throughout; a shown one never covers exactly one withheld part
    totals = _totals(published)
    for total in totals:
        if total["withheld"]:
            assert total["forecast"] == total["lower"] == total["upper"] == "[c]", total
            continue
        if total["level"] == "region":
            inside = [r for r in rows if r["region"] == total["name"] and r["period"] == total["period"]]
            assert sum(1 for r in inside if r["suppressed"]) != 1, total
        else:
            parts = [t for t in totals if t["level"] == "region" and t["period"] == total["period"]]
            assert sum(1 for t in parts if t["withheld"]) != 1, total


def _totals(folder: Path) -> list[dict[str, str]]:
    with (folder / "totals.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_totals_are_the_sums_of_the_published_areas_with_intervals(published: Path) -> None:
    """Each total is the sum of its areas before rounding, so the published figures agree to within
    the rounding: each area to the nearest 5, each total to the nearest 10."""
    rows, totals = _rows(published), _totals(published)
    periods = {r["period"] for r in rows}
    assert {t["period"] for t in totals} == periods
    assert {t["name"] for t in totals if t["level"] == "region"} == {r["region"] for r in rows}
    for total in (t for t in totals if not t["withheld"]):
        if total["level"] == "region":
            parts = [r for r in rows if r["region"] == total["name"] and r["period"] == total["period"]]
        else:
            parts = [r for r in rows if r["period"] == total["period"]]
        assert int(total["areas"]) == len(parts)
        if any(r["suppressed"] for r in parts):
            continue
        slack = 5 + 2.5 * len(parts)
        assert abs(float(total["forecast"]) - sum(float(r["forecast"]) for r in parts)) <= slack, total
        assert float(total["lower"]) <= float(total["forecast"]) <= float(total["upper"]), total
    for period in periods:  # the national total is the sum of the regions, within their rounding
        (nation,) = [t for t in totals if t["level"] == "total" and t["period"] == period]
        regions = [t for t in totals if t["level"] == "region" and t["period"] == period]
        if nation["withheld"] or any(t["withheld"] for t in regions):
            continue
        assert abs(float(nation["forecast"]) - sum(float(t["forecast"]) for t in regions)) <= 5 + 5 * len(regions)
    html = (published / "report.html").read_text()
    assert re.search(r"England.{0,400}?80% interval [\d,]+ to [\d,]+; \d[\d,]* areas", html, re.S), "no total card"


def test_the_largest_rises_show_published_numbers_not_raw_floats(published: Path) -> None:
    html = (published / "report.html").read_text()
    rises = re.search(r'<h2 id="rises">.*?</table>', html, re.S).group(0)
    cells = re.findall(r'<td class="num">([^<]*)</td>', rises)
    assert cells and len(cells) % 3 == 0
    for last_year, forecast, change in zip(cells[::3], cells[1::3], cells[2::3], strict=True):
        assert COUNT.match(last_year) and COUNT.match(forecast), (last_year, forecast)
        assert CHANGE.match(change) and change.startswith("+"), change
    visible = " ".join(" ".join(v) for v in (lambda p: (p.feed(html), p.text)[1])(_Text()).values())
    assert not re.search(r"\d\.\d{4,}", visible)  # no raw float anywhere a reader can see


def test_numbers_are_in_govuk_style_in_the_csv_card_and_record(published: Path) -> None:
    rows = _rows(published)
    for row in rows:
        for column in ("forecast", "lower", "upper", "same_period_last_year"):
            assert re.fullmatch(r"\d+|\[c\]|", row[column]), (column, row[column])  # rounded as published
        assert CHANGE.match(row["change_vs_last_year"]), row["change_vs_last_year"]
    assert any(len(row["forecast"]) >= 4 for row in rows)  # thousands occur, so the report's separators are tested
    html = (published / "report.html").read_text()
    assert re.search(r'<td class="num">\d{1,3},\d{3}</td>', html)
    card = (published / "model_card.md").read_text()
    assert re.search(r"MASE \d\.\d{3}, WAPE \d+\.\d%, bias [+-]\d+\.\d%", card), card
    assert not re.search(r"\d\.\d{5,}", card)
    record = json.loads((published / "transparency_record.json").read_text())
    performance = record["tier_2"]["tool_specification"]["model_performance"]
    assert re.fullmatch(r"\d\.\d{3}", performance["mase"]) and re.fullmatch(r"\d+\.\d%", performance["wape"])


def test_transparency_fields_come_from_the_experiment_and_missing_ones_say_so(published: Path) -> None:
    record = json.loads((published / "transparency_record.json").read_text())
    assert record["tier_1"]["contact_email"] == PROVIDED["contact"]
    assert record["tier_2"]["owner_and_responsibility"]["team"] == PROVIDED["owner"]
    assert record["tier_2"]["description_and_rationale"]["legal_basis"] == PROVIDED["legal_basis"]
    assert record["tier_1"]["website"] == "Not provided"
    assert "owner" not in record["fields_not_provided"] and "website" in record["fields_not_provided"]
    text = (published / "model_card.md").read_text() + (published / "transparency_record.md").read_text()
    assert "TO COMPLETE" not in text and "Housing analysis team" in text and "Not provided" in text


def _no_horizontal_overflow(page) -> None:
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    wide = page.evaluate(
        """(w) => Array.from(document.querySelectorAll('main *, header *'))
             .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > w + 1
                 && !e.closest('.scroll, #table-wrap'); })
             .map(e => e.tagName + (e.id ? '#' + e.id : '')).slice(0, 5)""",
        width,
    )
    assert wide == [], wide


@pytest.mark.slow
def test_the_report_at_desktop_phone_and_print(published: Path) -> None:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Chromium is not installed here; CI installs it and runs this test")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    report = (published / "report.html").as_uri()
    sections = ["headlines", "rises", "areas", "area-detail", "fairness", "interval", "caveats", "about"]
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        desktop = browser.new_page(viewport={"width": 1280, "height": 900})
        desktop.on("pageerror", lambda e: errors.append(str(e)))
        desktop.goto(report)
        _no_horizontal_overflow(desktop)
        desktop.screenshot(path=str(ARTIFACTS / "report-desktop.png"))

        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
        phone.on("pageerror", lambda e: errors.append(str(e)))
        phone.goto(report)
        _no_horizontal_overflow(phone)
        phone.screenshot(path=str(ARTIFACTS / "report-phone.png"))
        phone.locator("#area-table tbody tr:not([hidden]) td a").first.click()
        opened = phone.locator("details.area[open]")
        assert opened.count() == 1
        _no_horizontal_overflow(phone)
        opened.screenshot(path=str(ARTIFACTS / "report-phone-area.png"))

        printed = browser.new_page(viewport={"width": 1280, "height": 900})
        printed.on("pageerror", lambda e: errors.append(str(e)))
        printed.goto(report)
        printed.emulate_media(media="print")
        for section in sections:
            assert printed.locator(f"#{section}").is_visible(), section
        assert printed.locator("#area-table tbody tr:visible").count() == 296 * 2  # filtered rows print too
        assert not printed.locator(".filters").is_visible()
        shown = printed.locator("details.area figure:visible").count()
        assert shown >= 290, shown  # every area's charts print (all but the suppressed), not only opened ones
        printed.screenshot(path=str(ARTIFACTS / "report-print.png"))
        pdf = printed.pdf(path=str(ARTIFACTS / "report.pdf"), format="A4", print_background=True)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pages >= 296 // 6, pages  # every area's section is in the PDF, not only the first screen
        browser.close()
    assert errors == []
