"""Official tables as they really are: H-CLIC workbooks in both layouts and both formats, markers,
summary rows, editions, reorganisations, covariates with publication dates, and clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.data.hclic_fixtures import write_workbook
from workbench.config import DataConfig
from workbench.data import messages as msg
from workbench.data.load import load_panel
from workbench.data.official.hclic import read_workbook
from workbench.data.official.workbook import clean_header
from workbench.errors import DataError

AREAS = {
    "E06000001": ("Hartlepool", "North East"),
    "E06000002": ("Middlesbrough", "North East"),
    "E08000021": ("Newcastle upon Tyne", "North East"),
    "E06000014": ("York", "Yorkshire and The Humber"),
    "E08000035": ("Leeds", "Yorkshire and The Humber"),
}
MARKERS = {
    ("E06000001", "prevention"): "[x]",
    ("E06000002", "relief"): "[c]",
    ("E08000021", "ta"): "..",
    ("E06000014", "children"): "-",
    ("E08000035", "assessments"): "[n]",
    ("E06000002", "children"): "[z]",
}
Q = pd.Period("2024Q1", freq="Q")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Total initial assessments1,2", "total initial assessments"),
        ("Number of households in area (thousands)5", "number of households in area (thousands)"),
        ("Owed a relief duty [note 5]", "owed a relief duty"),
        (
            "Households threatened with homelessness within 56 days  ",
            "households threatened with homelessness within 56 days",
        ),
        ("Section 21 notice [Note 12]", "section 21 notice"),
        ("Rate per 1,000 households", "rate per 1,000 households"),
    ],
)
def test_headers_lose_footnotes_but_keep_real_numbers(text, expected) -> None:
    assert clean_header(text) == expected


@pytest.mark.parametrize("layout", ["old", "new"])
@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_both_layouts_in_both_formats_give_identical_tables(tmp_path, layout, suffix) -> None:
    reference = read_workbook(
        write_workbook(tmp_path / "ref.xlsx", quarter=Q, areas=AREAS, layout="new", markers=MARKERS)
    ).areas
    table = read_workbook(
        write_workbook(tmp_path / f"book{suffix}", quarter=Q, areas=AREAS, layout=layout, markers=MARKERS)
    )
    assert table.period == Q
    key = [
        "area_code",
        "owed_duty",
        "owed_prevention",
        "owed_relief",
        "initial_assessments",
        "households",
        "households_in_ta",
        "ta_with_children",
        "region",
    ]
    pd.testing.assert_frame_equal(
        table.areas[key].sort_values("area_code").reset_index(drop=True),
        reference[key].sort_values("area_code").reset_index(drop=True),
        check_dtype=False,
    )
    areas = table.areas.set_index("area_code")
    # every marker is missing, never zero
    assert np.isnan(areas.loc["E06000001", "owed_prevention"]) and np.isnan(areas.loc["E06000002", "owed_relief"])
    assert np.isnan(areas.loc["E08000021", "households_in_ta"]) and np.isnan(areas.loc["E06000014", "ta_with_children"])
    assert np.isnan(areas.loc["E08000035", "initial_assessments"])
    assert (areas[["owed_duty", "households"]] > 0).all().all()
    # England, region and Rest of England rows are kept aside as totals, not as areas
    assert set(areas.index) == set(AREAS)
    assert {"E92000001", "E12000001", "E12000003"} <= set(table.totals["area_code"])
    assert table.totals["area_name"].str.contains("Rest of England").any()
    assert areas.loc["E08000035", "region"] == "YORKSHIRE AND THE HUMBER"
    # the authorities add up to the England row, except where a marker hides one authority's TA figure
    assert [f.check for f in table.findings] == ["totals_disagree"]
    assert "'households_in_ta'" in table.findings[0].message


def test_a_folder_of_quarters_becomes_a_panel_with_the_revised_edition_winning(tmp_path) -> None:
    folder = tmp_path / "hclic"
    folder.mkdir()
    for q in pd.period_range("2023Q2", "2024Q1", freq="Q"):
        write_workbook(
            folder / f"Detailed_LA_{q}.xlsx",
            quarter=q,
            areas=AREAS,
            layout="new" if q.year == 2024 else "old",
            status="provisional" if q == Q else "",
        )
    revised = write_workbook(
        folder / "Detailed_LA_2024Q1_revised.ods", quarter=Q, areas=AREAS, layout="new", status="revised"
    )
    panel = load_panel(DataConfig(official={"folder": folder}))
    frame = panel.frame
    assert len(frame) == 5 * 4 and frame["period"].dtype == pd.PeriodDtype("Q-DEC")
    assert set(frame.loc[frame["period"] == Q, "release_status"]) == {"revised"}
    assert any(f"{revised.name} (revised) replaces" in note for note in panel.notes)
    rate = frame["owed_duty"] / frame["households"] * 1000
    np.testing.assert_allclose(frame["owed_duty_per_1000"], rate)


def test_a_series_crossing_a_reorganisation_lands_on_current_boundaries(tmp_path) -> None:
    folder = tmp_path / "hclic"
    folder.mkdir()
    before = {f"E0700016{i}": (f"District {i}", "Yorkshire and The Humber") for i in range(3, 10)}
    after = {"E06000065": ("North Yorkshire", "Yorkshire and The Humber")}
    york = {"E06000014": ("York", "Yorkshire and The Humber")}
    quarters = pd.period_range("2022Q3", "2023Q3", freq="Q")
    for q in quarters:
        write_workbook(
            folder / f"LA_{q}.xlsx",
            quarter=q,
            areas={**(before if q < pd.Period("2023Q2", "Q") else after), **york},
            layout="new",
        )
    panel = load_panel(DataConfig(official={"folder": folder}))
    frame = panel.frame.set_index(["area_code", "period"])
    assert set(panel.frame["area_code"]) == {"E06000065", "E06000014"}
    for q in quarters[:3]:  # before April 2023: the seven districts summed
        districts = [read_workbook(folder / f"LA_{q}.xlsx").areas.set_index("area_code").loc[list(before)]]
        expected = districts[0][["owed_duty", "households", "households_in_ta"]].sum()
        row = frame.loc[("E06000065", q)]
        assert row["owed_duty"] == expected["owed_duty"]
        assert row["households"] == pytest.approx(expected["households"])
        assert row["households_in_ta"] == expected["households_in_ta"]
        assert row["owed_duty_per_1000"] == pytest.approx(expected["owed_duty"] / expected["households"] * 1000)
    assert frame.loc[("E06000065", quarters[0]), "area_name"] == "North Yorkshire"
    assert any("E06000065 North Yorkshire: summed E07000163, E07000164" in note for note in panel.notes)


def test_a_workbook_without_the_expected_sheet_names_what_it_looked_for(tmp_path) -> None:
    path = write_workbook(tmp_path / "no_ta.xlsx", quarter=Q, areas=AREAS, layout="new", drop_sheet="TA1_")
    with pytest.raises(DataError) as caught:
        read_workbook(path)
    assert msg.SHEET_MISSING[0].format(path="no_ta.xlsx", wanted="'TA1'", found="A1") in str(caught.value)
    # the experiment has no sheet setting, so the fix points at the workbook and at the loader
    assert (
        "workbook 'no_ta.xlsx' has no sheet 'TA1'; sheets found: A1. Fix: check that 'no_ta.xlsx' is a quarterly "
        "'Detailed local authority level tables' workbook (it holds sheets A1 and TA1); if a new edition renamed "
        "the sheet, change the name that workbench/data/official/hclic.py reads"
    ) in str(caught.value)


def test_a_workbook_without_an_expected_column_names_what_it_looked_for_and_found(tmp_path) -> None:
    path = write_workbook(
        tmp_path / "no_households.ods", quarter=Q, areas=AREAS, layout="new", drop_column="households"
    )
    with pytest.raises(DataError) as caught:
        read_workbook(path)
    text = str(caught.value)
    assert (
        "sheet 'A1' of 'no_households.ods' has no column for 'households_thousands' (looked for a header "
        "containing 'households in area' or 'number of households')"
    ) in text
    assert "headers found: organisation identification code; area name; total initial assessments" in text


def test_an_empty_folder_is_refused_with_where_to_put_the_files(tmp_path) -> None:
    (tmp_path / "hclic").mkdir()
    with pytest.raises(DataError) as caught:
        load_panel(DataConfig(official={"folder": tmp_path / "hclic"}))
    assert msg.NO_WORKBOOKS[0].format(folder=tmp_path / "hclic") in str(caught.value)


def test_covariates_join_from_their_publication_dates(tmp_path) -> None:
    folder = tmp_path / "hclic"
    folder.mkdir()
    quarters = pd.period_range("2019Q1", "2020Q2", freq="Q")
    for q in quarters:
        write_workbook(folder / f"LA_{q}.xlsx", quarter=q, areas=AREAS, layout="new")
    iod = tmp_path / "iod.csv"
    pd.DataFrame(
        {"Local Authority District code (2019)": list(AREAS), "IMD - Average score ": [40.1, 39.0, 30.2, 12.5, 26.9]}
    ).to_csv(iod, index=False)
    claimant = tmp_path / "claimant.csv"
    months = pd.period_range("2019-01", "2020-06", freq="M")
    pd.DataFrame(
        [{"geography code": a, "date": str(m), "value": 3.0 + i} for i, a in enumerate(AREAS) for m in months]
    ).to_csv(claimant, index=False)
    possession = tmp_path / "possession.csv"
    pd.DataFrame(
        [{"Local authority code": a, "Quarter": str(q), "Claims": 50} for a in AREAS for q in quarters]
    ).to_csv(possession, index=False)
    panel = load_panel(
        DataConfig(
            official={"folder": folder, "deprivation": iod, "claimant_count": claimant, "possession_claims": possession}
        )
    )
    frame = panel.frame.set_index(["area_code", "period"])
    assert np.isnan(frame.loc[("E06000001", pd.Period("2019Q2", "Q")), "imd_average_score"])  # before September 2019
    assert frame.loc[("E06000001", pd.Period("2019Q3", "Q")), "imd_average_score"] == pytest.approx(40.1)
    assert panel.static_table().loc["E06000001", "deprivation_quintile"] == "1"
    assert panel.spec.publication_lag("claimant_rate") == 1
    assert frame.loc[("E06000002", pd.Period("2019Q4", "Q")), "claimant_rate"] == pytest.approx(4.0)
    assert np.isnan(frame.loc[("E06000002", pd.Period("2020Q2", "Q")), "claimant_rate"])  # not published yet
    households = frame.loc[("E06000002", pd.Period("2019Q4", "Q")), "households"]
    assert frame.loc[("E06000002", pd.Period("2019Q4", "Q")), "possession_claims_rate"] == pytest.approx(
        50 / households * 1e5
    )
    assert "deprivation_quintile" in panel.spec.groups
