"""Numbers for reading (GOV.UK style), and the transparency fields the experiment leaves out."""

from __future__ import annotations

import math

import pytest

from workbench.config import TRANSPARENCY_FIELDS, ReportConfig
from workbench.numbers import count, decimal, percent, rounded, signed_percent


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "0"), (7.4, "7"), (1234.5, "1,234"), (1235.5, "1,236"), (1234567.0, "1,234,567"), (math.nan, ""), (None, "")],
)
def test_counts_have_thousands_separators_and_no_decimals(value, expected) -> None:
    assert count(value) == expected


@pytest.mark.parametrize(("value", "base", "expected"), [(12.5, 5, "15"), (12.4, 5, "10"), (98_765, 10, "98,770")])
def test_rounding_to_a_base(value, base, expected) -> None:
    assert rounded(value, base) == expected


@pytest.mark.parametrize(
    ("fraction", "expected", "signed"),
    [
        (0.12345, "12.3%", "+12.3%"),
        (-0.04, "-4.0%", "-4.0%"),
        (0.0, "0.0%", "0.0%"),
        (-0.00001, "-0.0%", "0.0%"),
        (12.3456, "1,234.6%", "+1,234.6%"),
        (math.inf, "", ""),
    ],
)
def test_percentages_have_one_decimal_place(fraction, expected, signed) -> None:
    assert percent(fraction) == expected
    assert signed_percent(fraction) == signed


def test_a_raw_float_never_survives_formatting() -> None:
    raw = 0.17833333333333334  # the 16-digit change once printed in "Largest expected rises"
    for text in (percent(raw), signed_percent(raw), decimal(raw), count(raw * 1000)):
        assert len(text.replace(",", "")) <= 7, text
    assert decimal(0.91234) == "0.912"


def test_validation_lists_the_transparency_fields_not_provided() -> None:
    config = ReportConfig(owner="Housing analysis", contact="  ", legal_basis="Public task")
    missing = config.missing()
    assert "owner" not in missing and "legal_basis" not in missing
    assert "contact" in missing  # blank is not provided
    assert missing == [f for f in TRANSPARENCY_FIELDS if f not in ("owner", "legal_basis")]
    assert set(TRANSPARENCY_FIELDS) <= set(ReportConfig.model_fields)
