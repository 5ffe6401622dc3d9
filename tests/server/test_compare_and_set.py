"""Compare-and-set on the champion through the server: one winner among racing promotions, a stale
expectation refused with the champion that won, and only approvers allowed."""

from __future__ import annotations

import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from tests.server.racing import race
from tests.server.registered import registered
from workbench.tracking.server import Swap, compare_and_set_champion


def test_a_stale_expectation_is_refused_with_the_champion_that_won(team_server, monkeypatch):
    name, _ = registered(team_server, monkeypatch)
    team_server.as_user(monkeypatch, "alex")

    first = compare_and_set_champion(name, expected=None, version="1")
    stale = compare_and_set_champion(name, expected=None, version="2")
    judged_again = compare_and_set_champion(name, expected=stale.current, version="2")

    assert (first, stale, judged_again) == (Swap(True, "1"), Swap(False, "1"), Swap(True, "2"))
    assert MlflowClient(team_server.url).get_registered_model(name).aliases == {"champion": "2"}


@pytest.mark.parametrize("user", ["dana", "rita"])
def test_only_an_approver_may_compare_and_set(team_server, monkeypatch, user):
    name, _ = registered(team_server, monkeypatch)
    team_server.as_user(monkeypatch, user)

    with pytest.raises(MlflowException) as refused:
        compare_and_set_champion(name, expected=None, version="1")

    assert refused.value.get_http_status_code() == 403
    assert MlflowClient(team_server.url).get_registered_model(name).aliases == {}


def test_four_racing_promotions_against_the_same_champion_swap_exactly_once(team_server, monkeypatch):
    name, numbers = registered(team_server, monkeypatch, versions=5)
    team_server.as_user(monkeypatch, "alex")
    assert compare_and_set_champion(name, expected=None, version="1") == Swap(True, "1")
    outcomes = [
        output.split()
        for _, output in race("swap", {"name": name, "expected": "1", "url": team_server.url}, numbers[1:])
    ]

    winners = [version for (swapped, _), version in zip(outcomes, numbers[1:], strict=True) if swapped == "True"]
    assert len(winners) == 1
    assert all(current == winners[0] for _, current in outcomes)
    assert MlflowClient(team_server.url).get_model_version_by_alias(name, "champion").version == winners[0]
