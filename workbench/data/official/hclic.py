"""The quarterly statutory homelessness (H-CLIC) 'Detailed local authority level tables': sheets A1
(initial assessments and duties owed) and TA1 (temporary accommodation), in the older layout
(merged multi-row headers, footnote digits) and the newer one (one header row, `[note N]`).

Columns are found by the words in their headers, never by position. England, region and 'Rest of
England' rows are set aside as totals, used to check that the authorities add up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data import messages as msg
from workbench.data.contract import AREA, AREA_NAME, REGION, Frequency
from workbench.data.findings import Finding, from_message
from workbench.data.official.workbook import Sheet, find_column, read_sheet, to_number
from workbench.data.periods import parse_periods
from workbench.errors import DataError

DISTRICT = re.compile(r"^E0[6-9]\d{6}$")
RATE_WORDS = ["per 1,000", "per 1000", "rate", "%", "proportion"]

# measure -> (alternative keyword sets, excluded words, required)
Measures = dict[str, tuple[list[list[str]], list[str], bool]]
A1: Measures = {
    "owed_duty": (
        [["total", "prevention or relief duty"], ["total owed"], ["prevention or relief duty"]],
        RATE_WORDS,
        True,
    ),
    "owed_prevention": ([["prevention duty"]], ["relief", "section 21", "of which", "due to", *RATE_WORDS], False),
    "owed_relief": ([["relief duty"]], ["prevention", *RATE_WORDS], False),
    "initial_assessments": ([["total", "initial assessments"]], RATE_WORDS, False),
    "households_thousands": ([["households in area"], ["number of households"]], RATE_WORDS, True),
}
TA1: Measures = {
    "households_in_ta": (
        [["total", "temporary accommodation"], ["total number of households"]],
        ["children", "b&b", "bed and breakfast", *RATE_WORDS],
        True,
    ),
    "ta_with_children": ([["with children"]], ["number of children", *RATE_WORDS], False),
}
MONTH_RANGE = re.compile(
    r"(jan\w*|apr\w*|jul\w*|oct\w*)\s*(?:to|-|–|_)\s*(mar\w*|jun\w*|sep\w*|dec\w*)[\s_-]*(\d{4})", re.IGNORECASE
)


@dataclass(frozen=True)
class SheetTable:
    areas: pd.DataFrame  # one row per authority: code, name, region, measures
    totals: pd.DataFrame  # England, region and Rest of England rows
    period: pd.Period
    status: str  # provisional, revised or final
    findings: list[Finding] = field(default_factory=list)


def _period(sheet: Sheet) -> pd.Period:
    for text in (sheet.title, sheet.path.stem.replace("_", " ")):
        match = MONTH_RANGE.search(text)
        if match:
            parsed = parse_periods(
                pd.Series([f"{match.group(1)[:3]}-{match.group(2)[:3]} {match.group(3)}"]), frequency=Frequency.QUARTER
            )
            if parsed.periods.notna().all():
                return parsed.periods.iloc[0]
    raise DataError([from_message(msg.PERIOD_UNKNOWN, path=sheet.path.name, sheet=sheet.sheet)], source=str(sheet.path))


def _status(sheet: Sheet) -> str:
    text = f"{sheet.title} {sheet.path.stem}".lower()
    return "revised" if "revised" in text else "provisional" if "provisional" in text else "final"


def read_table(path: Path, *, sheet: str, measures: Measures) -> SheetTable:
    table = read_sheet(path, sheet)
    code = find_column(table, measure="the area code", alternatives=[["code"]], exclude=["region"])
    name = find_column(
        table,
        measure="the area name",
        alternatives=[["area name"], ["local authority"], ["name"]],
        exclude=["code"],
        required=False,
    )
    body = table.body
    codes = body[code].map(lambda v: str(v).strip() if v is not None and v == v else "")
    names = body[name].map(lambda v: str(v).strip() if v is not None and v == v else "") if name is not None else codes
    frame = pd.DataFrame({AREA: codes, AREA_NAME: names})
    for measure, (alternatives, exclude, required) in measures.items():
        position = find_column(
            table, measure=f"'{measure}'", alternatives=alternatives, exclude=exclude, required=required
        )
        frame[measure] = to_number(body[position]) if position is not None else np.nan
    is_region = frame[AREA].str.match(r"^E12\d{6}$")
    region = frame[AREA_NAME].where(is_region).ffill()
    rest = frame[AREA_NAME].str.lower().str.contains("rest of england")
    totals = frame[(frame[AREA] == "E92000001") | is_region | rest].copy()
    areas = frame[frame[AREA].str.match(DISTRICT.pattern)].assign(**{REGION: region})
    return SheetTable(areas.reset_index(drop=True), totals.reset_index(drop=True), _period(table), _status(table))


def _reconcile(path: Path, table: SheetTable, measure: str) -> list[Finding]:
    england = table.totals.loc[table.totals[AREA] == "E92000001", measure]
    if england.empty or england.isna().all():
        return []
    total, expected = float(table.areas[measure].sum()), float(england.iloc[0])
    if abs(total - expected) <= max(50.0, 0.005 * expected):
        return []
    return [
        from_message(
            msg.TOTALS_DISAGREE,
            severity="warning",
            path=path.name,
            period=table.period,
            total=total,
            measure=measure,
            england=expected,
        )
    ]


def read_workbook(path: Path) -> SheetTable:
    """A1 and TA1 of one quarterly workbook, joined per authority."""
    a1 = read_table(path, sheet="A1", measures=A1)
    ta1 = read_table(path, sheet="TA1", measures=TA1)
    areas = a1.areas.merge(ta1.areas.drop(columns=[AREA_NAME, REGION]), on=AREA, how="outer")
    areas[AREA_NAME] = areas[AREA_NAME].fillna(areas[AREA].map(ta1.areas.set_index(AREA)[AREA_NAME]))
    areas[REGION] = areas[REGION].fillna(areas[AREA].map(ta1.areas.set_index(AREA)[REGION]))
    if areas["owed_duty"].isna().all() and {"owed_prevention", "owed_relief"} <= set(areas):
        areas["owed_duty"] = areas["owed_prevention"] + areas["owed_relief"]
    areas["households"] = areas["households_thousands"] * 1000
    totals = pd.concat([a1.totals, ta1.totals], ignore_index=True)
    findings = _reconcile(path, a1, "owed_duty") + _reconcile(path, ta1, "households_in_ta")
    return SheetTable(areas, totals, a1.period, a1.status, findings)


__all__ = ["A1", "TA1", "read_table", "read_workbook"]
