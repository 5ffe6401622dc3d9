"""Small H-CLIC workbooks made in code, in the older and the newer layout, as xlsx or ods, with the
real quirks: titles above the table, merged multi-row headers with footnote digits glued to the
text, `[note N]` suffixes, missing-value markers, England, region and Rest of England rows, and a
sheet name with a trailing underscore."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

REGIONS = {"E12000001": "North East", "E12000003": "Yorkshire and The Humber"}
MONTHS = {1: ("January", "March"), 2: ("April", "June"), 3: ("July", "September"), 4: ("October", "December")}


def authority_rows(quarter: pd.Period, *, areas: dict[str, tuple[str, str]], base: int = 0) -> list[dict]:
    """Deterministic values per authority and quarter; some cells hold markers instead of numbers."""
    rows = []
    for i, (code, (name, region)) in enumerate(areas.items()):
        seed = int(code[-3:]) + quarter.ordinal + base
        rows.append(
            {
                "code": code,
                "name": name,
                "region": region,
                "assessments": 100 + seed % 37,
                "prevention": 40 + seed % 11,
                "relief": 35 + seed % 7,
                "households": round(20 + i * 3.5, 1),
                "ta": 60 + seed % 13,
                "children": 30 + seed % 5,
            }
        )
    return rows


def _marked(value, marker: str | None):
    return marker if marker is not None else value


def write_workbook(
    path: Path,
    *,
    quarter: pd.Period,
    areas: dict[str, tuple[str, str]],
    layout: str,
    markers: dict[tuple[str, str], str] | None = None,
    status: str = "",
    drop_sheet: str | None = None,
    drop_column: str | None = None,
) -> Path:
    """Write a workbook for `quarter`. `markers` puts e.g. '[x]' in (area code, measure) cells."""
    markers = markers or {}
    rows = authority_rows(quarter, areas=areas)
    first, last = MONTHS[quarter.quarter]
    when = f"{first} to {last} {quarter.year}" if layout == "new" else f"{first[:3]} - {last[:3]} {quarter.year}"
    title = f"Table A1: Households assessed and owed a duty, England, {when}{' (' + status + ')' if status else ''}"

    def value(row, measure):
        return _marked(row[measure], markers.get((row["code"], measure)))

    duty = {r["code"]: r["prevention"] + r["relief"] for r in rows}
    a1_cols = ["code", "name", "assessments", "duty", "prevention", "relief", "households", "rate"]
    if layout == "new":
        a1_header = [
            [
                "Organisation Identification Code",
                "Area Name",
                "Total initial assessments [note 2]",
                "Total owed a prevention or relief duty [note 3]",
                "Owed a prevention duty [note 4]",
                "Owed a relief duty [note 5]",
                "Number of households in area (thousands) [note 6]",
                "Households owed a duty per 1,000 households [note 7]",
            ]
        ]
        ta_header = [
            [
                "Organisation Identification Code",
                "Area Name",
                "Total number of households in TA [note 8]",
                "Households with children [note 9]",
            ]
        ]
        lead = [[title, *[None] * 7], ["This worksheet contains one table.", *[None] * 7]]
    else:
        a1_header = [
            [None, None, "Initial assessments", None, "Owed a prevention or relief duty", None, None, "Households"],
            [
                "ONS code",
                "Local authority",
                "Total initial assessments1,2",
                "Total owed a prevention or relief duty3",
                "Owed a prevention duty4",
                "Owed a relief duty",
                "Number of households in area (thousands)5",
                "Rate per 1,000 households6",
            ],
        ]
        ta_header = [
            [None, None, "Households in temporary accommodation", None],
            ["ONS code", "Local authority", "Total households in temporary accommodation1", "Of which with children2"],
        ]
        lead = [[title, *[None] * 7], [None] * 8]
    if drop_column:
        keep = [i for i, c in enumerate(a1_cols) if c != drop_column]
        a1_header = [[h[i] for i in keep] for h in a1_header]
    england = {m: sum(r[m] for r in rows) for m in ("assessments", "prevention", "relief", "ta", "children")}
    england["households"] = round(sum(r["households"] for r in rows), 1)
    a1_rows = [
        [
            "E92000001",
            "England",
            round(england["assessments"], -1),
            round(sum(duty.values()), -1),
            round(england["prevention"], -1),
            round(england["relief"], -1),
            england["households"],
            "[x]",
        ]
    ]
    ta_rows = [["E92000001", "England", round(england["ta"], -1), round(england["children"], -1)]]
    for region_code, region in REGIONS.items():
        mine = [r for r in rows if r["region"] == region]
        a1_rows.append(
            [
                region_code,
                region.upper(),
                sum(r["assessments"] for r in mine),
                sum(duty[r["code"]] for r in mine),
                "..",
                "..",
                "..",
                "..",
            ]
        )
        ta_rows.append([region_code, region.upper(), sum(r["ta"] for r in mine), "[z]"])
        for r in mine:
            a1_rows.append(
                [
                    r["code"],
                    r["name"],
                    value(r, "assessments"),
                    _marked(duty[r["code"]], markers.get((r["code"], "duty"))),
                    value(r, "prevention"),
                    value(r, "relief"),
                    value(r, "households"),
                    round(duty[r["code"]] / r["households"], 2),
                ]
            )
            ta_rows.append([r["code"], r["name"], value(r, "ta"), value(r, "children")])
    a1_rows.append(["[z]", "Rest of England", "[x]", "[x]", "[x]", "[x]", "[x]", "[x]"])
    if drop_column:
        a1_rows = [[row[i] for i in keep] for row in a1_rows]
    sheets = {
        "A1": lead + a1_header + a1_rows,
        "TA1_": [[title.replace("A1", "TA1"), None, None, None], [None] * 4, *ta_header, *ta_rows],
    }
    if drop_sheet:
        sheets.pop(drop_sheet)
    engine = "odf" if path.suffix == ".ods" else "openpyxl"
    with pd.ExcelWriter(path, engine=engine) as writer:
        for name, grid in sheets.items():
            width = max(len(r) for r in grid)
            pd.DataFrame([r + [None] * (width - len(r)) for r in grid]).to_excel(
                writer, sheet_name=name, header=False, index=False
            )
        if engine == "openpyxl" and layout == "old":  # the older files merge their group headers
            book = writer.book
            book["A1"].merge_cells("C3:D3") if not drop_column else None
            book["A1"].merge_cells("E3:G3") if not drop_column else None
            if "TA1_" in book.sheetnames:
                book["TA1_"].merge_cells("C3:D3")
    return path
