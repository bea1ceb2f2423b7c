"""Dashboard names and parameters are checked before any query, with errors that list what is valid; whether a
dashboard takes a window (`acdscope query --from/--until`) is its own placeholders' say."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import time
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from acdscope import cli
from acdscope.dashboards import BadParameters
from acdscope.dashboards import UnknownDashboard
from acdscope.dashboards import available
from acdscope.dashboards import check_parameters
from acdscope.dashboards import load
from acdscope.dashboards import parameters_of
from acdscope.dashboards import window_of
from acdscope.demo import TOPICS
from acdscope.demo import demo_config
from acdscope.demo import embedded_warehouse
from acdscope.demo import feed
from acdscope.demo import pipeline_into
from producers.simulator.run import simulate_in_memory
from producers.simulator.scenario import scenario_from_dict
from streams.engine.timebase import to_ms


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


# --- `acdscope query`: the window is the dashboard's own (its placeholders), not the CLI's ---------------------

# Agents who take long unscheduled not-ready spells, so that at midday some are out of adherence for sure.
RTA = scenario_from_dict(
    {
        "name": "rta",
        "setup": "virtualized",
        "call_types": [{"name": "billing", "daily_volume": 300}],
        "in_house": {
            "id": "in-house",
            "agents": 12,
            "teams": 2,
            "behaviour": {"unscheduled_not_ready_per_hour": 2.0, "unscheduled_not_ready_mean_min": 30.0},
        },
        "vendors": [],
    }
)


@pytest.fixture(scope="module")
def live_board(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """An embedded warehouse fed the morning of `RTA` through the streaming pipeline, its live board refreshed
    as the worker does (`tick`): the data directory and the agents the simulator has away from their
    scheduled queue time at noon, per its truth."""
    data = tmp_path_factory.mktemp("rta") / "chdb"
    memory, truth = simulate_in_memory(RTA)
    memory.close()
    events = list(memory.events())
    noon = datetime.combine(RTA.start_date, time(12), tzinfo=UTC)
    with embedded_warehouse(data) as client:
        pipeline = pipeline_into(client, demo_config([RTA]))
        feed(pipeline, [event for event in events if event.ts < noon], dict.fromkeys(TOPICS, 0))
        pipeline.tick()
        pipeline.sink.flush()
    at = to_ms(noon) - 1
    away = sorted(
        span.agent_id for span in truth.spans if span.start_ms <= at < span.end_ms and span.state == "away"
    )
    return data, away


def _query(data: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    from acdscope.settings import get_settings

    monkeypatch.setenv("ACDSCOPE_CLICKHOUSE_DSN", f"chdb://{data}")
    monkeypatch.delenv("ACDSCOPE_CLICKHOUSE_DASHBOARD_DSN", raising=False)
    monkeypatch.setattr(cli.console, "width", 250)  # one line per row, whole agent ids
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli.app, ["query", *args])
    finally:
        get_settings.cache_clear()


def test_the_live_board_runs_without_a_window_and_lists_the_agents_out_now(
    live_board: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `query` used to demand --from/--until of every dashboard, and rta_board refuses them: it could not run.
    data, away = live_board
    result = _query(data, monkeypatch, "rta_board", "--param", "tenant=rta", "--param", "min_duration_s=0")
    assert result.exit_code == 0, result.output
    listed = sorted(
        line.split("│")[1].strip() for line in result.output.splitlines() if "│ in-house-" in line
    )
    assert listed, result.output
    # Every agent on the board really is away from the queue at noon, as the simulator recorded it.
    assert set(listed) <= set(away)


def test_a_window_given_to_the_live_board_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Refused before any connection: the warehouse directory is never opened.
    result = _query(
        tmp_path / "unused", monkeypatch, "rta_board", "--from", "2026-01-05", "--param", "tenant=t"
    )
    assert result.exit_code == 2
    assert "'rta_board' is not over a time window: drop --from" in result.output
    assert "min_duration_s (UInt32)" in result.output
    assert not (tmp_path / "unused").exists()


def test_a_dashboard_over_a_window_needs_both_bounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _query(tmp_path / "unused", monkeypatch, "vendor_scorecard", "--from", "2026-01-05")
    assert result.exit_code == 2
    assert "'vendor_scorecard' needs --until" in result.output
    # One way to give the window, not a second through --param.
    result = _query(tmp_path / "unused", monkeypatch, "vendor_scorecard", "--param", "from=2026-01-05")
    assert result.exit_code == 2
    assert "give the window as --from" in result.output
    assert not (tmp_path / "unused").exists()


def test_the_window_comes_from_the_placeholders() -> None:
    assert window_of("rta_board") == ()
    assert window_of("vendor_scorecard") == ("from", "until")
    assert window_of("daily_summary") == ("from", "until")


def test_an_empty_dashboard_says_why_and_fails_where_its_data_is_missing(
    live_board: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never an empty table with exit 0: an unknown tenant has no events, a window outside the data has no
    intervals (the message gives the span the data has), and a board with data where nobody qualifies says so
    and succeeds, for that is the answer."""
    data, _ = live_board
    window = ["--from", "2026-01-05", "--until", "2026-01-06"]
    nobody = _query(data, monkeypatch, "vendor_scorecard", *window, "--param", "tenant=nobody")
    assert nobody.exit_code == 1, nobody.output
    assert "vendor_scorecard: no events yet for tenant 'nobody'" in nobody.output
    assert "┏" not in nobody.output  # no table
    later = _query(data, monkeypatch, "vendor_scorecard", "--from", "2030-01-01", "--until", "2030-01-02",
                   "--param", "tenant=rta")  # fmt: skip
    assert later.exit_code == 1, later.output
    start = datetime.combine(RTA.start_date, time(), tzinfo=UTC)
    assert "no intervals of tenant 'rta' from 2030-01-01 00:00 to 2030-01-02 00:00 UTC" in later.output
    assert f"its data spans {start:%Y-%m-%d} " in later.output
    calm = _query(data, monkeypatch, "rta_board", "--param", "tenant=rta", "--param", "min_duration_s=86400")
    assert calm.exit_code == 0, calm.output
    assert "rta_board: no row matches: tenant 'rta' has events and terms" in calm.output


def test_an_empty_dashboard_names_the_sources_without_terms(tmp_path: Path) -> None:
    from acdscope.dashboards import why_empty
    from streams.warehouse.sink import clickhouse_writer
    from streams.warehouse.tables import TABLES
    from tests.support.warehouse import quality_row

    with embedded_warehouse(tmp_path / "chdb") as client:
        clickhouse_writer(client)(
            "quality_interval",
            TABLES["quality_interval"].columns,
            [quality_row("bare", "vendor-a", datetime(2026, 1, 5, 9, tzinfo=UTC), offered=2, answered=2)],
        )
        empty = why_empty(client, {"tenant": "bare"})
    assert empty.missing
    assert empty.reason == "no contract terms loaded for vendor-a (tenant 'bare'): run `acdscope terms`"
