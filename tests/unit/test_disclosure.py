"""Disclosure control: the 10-5 rule, totals, and secondary suppression."""

from __future__ import annotations

import pandas as pd

from workbench.report.disclosure import MARKER, DisclosureRule, protect, protect_total, round_to

RULE = DisclosureRule()


def test_small_counts_are_suppressed_and_the_rest_rounded_to_five() -> None:
    values = pd.Series([3.0, 9.4, 10.0, 12.4, 12.6, 138.0])
    text, status = protect(values, groups=None, rule=RULE)
    assert text.tolist() == [MARKER, MARKER, "10", "10", "15", "140"]
    assert status.tolist() == ["primary", "primary", "", "", "", ""]


def test_zero_is_never_published_as_zero() -> None:
    text, _ = protect(pd.Series([0.0, 25.0]), groups=None, rule=RULE)
    assert text.tolist() == [MARKER, "25"]


def test_totals_round_to_ten() -> None:
    assert protect_total(86_523.0, RULE) == "86,520"
    assert protect_total(86_526.0, RULE) == "86,530"
    assert protect_total(7.0, RULE) == MARKER
    assert round_to(12.5, 5) == 10.0  # round half to even, as numpy does


def test_a_lone_suppressed_area_in_a_region_triggers_secondary_suppression() -> None:
    values = pd.Series([4.0, 30.0, 55.0, 200.0, 6.0, 8.0, 40.0], index=["a1", "a2", "a3", "a4", "b1", "b2", "b3"])
    regions = pd.Series(["A", "A", "A", "A", "B", "B", "B"], index=values.index)
    text, status = protect(values, groups=regions, rule=RULE)
    # region A: a1 alone is suppressed, so the next smallest (a2) is suppressed too
    assert status["a1"] == "primary" and status["a2"] == "secondary"
    assert text["a2"] == MARKER and text["a3"] == "55"
    # region B already has two suppressed values: nothing more is needed
    assert status.tolist()[4:] == ["primary", "primary", ""]


def test_secondary_suppression_can_be_switched_off_and_the_rule_configured() -> None:
    values = pd.Series([4.0, 30.0, 55.0])
    regions = pd.Series(["A", "A", "A"])
    text, _ = protect(values, groups=regions, rule=DisclosureRule(secondary=False))
    assert text.tolist() == [MARKER, "30", "55"]
    text, _ = protect(values, groups=regions, rule=DisclosureRule(threshold=5, rounding=10, secondary=False))
    assert text.tolist() == [MARKER, "30", "60"]


def test_the_pattern_of_one_column_can_be_applied_to_another() -> None:
    forecast = pd.Series([4.0, 30.0])
    _, status = protect(forecast, groups=None, rule=RULE)
    upper, _ = protect(pd.Series([12.0, 44.0]), groups=None, rule=RULE, status=status)
    assert upper.tolist() == [MARKER, "45"]
