"""Dashboard names and parameters are checked before any query, with errors that list what is valid."""

from __future__ import annotations

import pytest

from acdscope.dashboards import BadParameters
from acdscope.dashboards import UnknownDashboard
from acdscope.dashboards import available
from acdscope.dashboards import check_parameters
from acdscope.dashboards import load
from acdscope.dashboards import parameters_of


def test_every_dashboard_states_its_question_and_parameters() -> None:
    for name in available():
        header = load(name).splitlines()[:4]
        assert header[0].startswith("-- Question:"), name
        assert any(line.startswith("-- Parameters:") for line in header), name
        assert any(line.startswith("-- Grain:") for line in load(name).splitlines()[:8]), name


def test_unknown_dashboard_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownDashboard, match=r"valid: .*vendor_scorecard"):
        load("vendor_scorecad")


def test_parameters_come_from_the_sql_placeholders() -> None:
    assert parameters_of("rta_board") == {"tenant": "String", "min_duration_s": "UInt32"}


def test_missing_and_unknown_parameters_are_named() -> None:
    with pytest.raises(
        BadParameters, match=r"missing until; unknown till; its parameters are: from .*tenant \(String\)"
    ):
        check_parameters("vendor_scorecard", {"tenant": "t", "from": 1, "till": 2})
