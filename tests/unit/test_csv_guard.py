"""Output safety, one function at a time: CSV cells guarded against formulas (OWASP's rule),
element ids from one safe slug, charts and templates that escape every value from data."""

from __future__ import annotations

import csv
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from markupsafe import Markup

from workbench.report.charts import drivers_chart, history_chart
from workbench.report.safety import guard_cell, guard_frame, md_cell, slug, write_published_csv

TEMPLATES = Path(__file__).parents[2] / "workbench" / "report" / "templates"


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://example.invalid","y")',
        "+1+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "=",
        "-",
    ],
)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(cell: str) -> None:
    assert guard_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-5%", "+12%", "-1,234.5", "+0.5", "-3", "Hartlepool", "[c]", "", "no change"])
def test_plain_text_and_signed_numbers_are_left_alone(cell: str) -> None:
    assert guard_cell(cell) == cell


@pytest.mark.parametrize("value", [-3, -2.5, 0, None, float("nan")])
def test_numbers_are_not_cells_of_text(value) -> None:
    assert guard_cell(value) is value


def test_guard_frame_guards_text_columns_and_headers_and_keeps_numbers_numeric() -> None:
    frame = pd.DataFrame(
        {"area_name": ["=cmd()", "Leeds"], "forecast": [-3.0, 4.0], "change": ["-5%", "+2%"], "=bad": ["a", "b"]}
    )
    guarded = guard_frame(frame)
    assert guarded["area_name"].tolist() == ["'=cmd()", "Leeds"]
    assert guarded["forecast"].tolist() == [-3.0, 4.0] and guarded["forecast"].dtype == "float64"
    assert guarded["change"].tolist() == ["-5%", "+2%"]
    assert list(guarded.columns) == ["area_name", "forecast", "change", "'=bad"]
    assert frame["area_name"].tolist() == ["=cmd()", "Leeds"]  # the input is not changed


def test_guard_frame_handles_mixed_typed_and_textless_object_columns() -> None:
    frame = pd.DataFrame(
        {
            "mixed": ["@SUM(A1)", 3, None],
            "typed": pd.array(["+cmd", "ok", None], dtype="string"),
            "periods": pd.Series([pd.Period("2024Q1"), pd.Period("2024Q2"), pd.Period("2024Q3")], dtype=object),
        }
    )
    guarded = guard_frame(frame)
    assert guarded["mixed"].tolist() == ["'@SUM(A1)", 3, None]
    assert guarded["typed"].tolist()[:2] == ["'+cmd", "ok"]
    assert guarded["periods"].tolist() == frame["periods"].tolist()


def test_write_published_csv_round_trips_as_inert_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"area_name": ['=HYPERLINK("http://x","y")', "a, b"], "n": [-1, 2]})
    path = write_published_csv(frame, tmp_path / "out.csv")
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["area_name", "n"], ['\'=HYPERLINK("http://x","y")', "-1"], ["a, b", "2"]]


def test_slug_keeps_safe_codes_and_makes_any_other_value_safe_and_distinct() -> None:
    assert slug("E06000001") == "E06000001"
    hostile = ['E06"><svg onload=alert(2)>', "E06'><svg onload=alert(2)>", "a b", "", "é"]
    made = [slug(h) for h in hostile]
    assert all(m and all(c.isascii() and (c.isalnum() or c in "-_") for c in m) for m in made)
    assert len(set(made)) == len(made)
    assert slug(hostile[0]) == slug(hostile[0])  # stable, so every link finds its section


def test_markdown_cells_cannot_break_the_table_or_carry_html() -> None:
    assert md_cell("a | b\n<script>x</script>") == "a \\| b &lt;script&gt;x&lt;/script&gt;"


class _Attrs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))


def _parsed(markup: str) -> list[tuple[str, dict]]:
    parser = _Attrs()
    parser.feed(markup)
    return parser.tags


def test_charts_escape_ids_labels_and_descriptions() -> None:
    code = 'E06"><svg onload=alert(2)>'
    history = history_chart(
        chart_id=f"h-{code}",
        periods=["2024Q1", "<b>2024Q2</b>"],
        actual=[10.0, 12.0],
        forecast_periods=["2024Q3"],
        forecast=[13.0],
        lower=[11.0],
        upper=[15.0],
        description='<script>alert(1)</script>" onmouseover="x',
    )
    drivers = drivers_chart(chart_id=f"d-{code}", drivers=[("<img src=x onerror=alert(3)>", 12.0)], description=code)
    for chart in (history, drivers):
        assert isinstance(chart, Markup)
        tags = _parsed(str(chart))
        assert [
            t
            for t, _ in tags
            if t not in ("svg", "title", "desc", "polygon", "polyline", "circle", "line", "text", "rect")
        ] == []
        assert not any(a.startswith("on") for _, attrs in tags for a in attrs)
    suppressed = history_chart(
        chart_id=f"h-{code}",
        periods=[],
        actual=[],
        forecast_periods=[],
        forecast=[],
        lower=[],
        upper=[],
        description="",
    )
    assert [t for t, _ in _parsed(str(suppressed))] == ["p"]


def test_every_template_is_autoescaped_and_trusts_nothing_from_data() -> None:
    from workbench.report import publish

    source = Path(publish.__file__).read_text()
    assert "autoescape=True" in source and "select_autoescape" not in source
    for template in TEMPLATES.glob("*.j2"):
        text = template.read_text()
        assert "| safe" not in text and "|safe" not in text, template.name
        assert "autoescape false" not in text, template.name
