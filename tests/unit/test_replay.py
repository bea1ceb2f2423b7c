"""Replay: window, order, pacing and resume, with a fake clock (no sleeping in tests)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from producers.feeds.rejects import Reject
from producers.feeds.report import FeedReport
from producers.replay import JsonLinesOutput
from producers.replay import ReplayStats
from producers.replay import read_events
from producers.replay import replay
from producers.simulator.run import simulate_single
from streams.events import Event
from streams.events import decode_event
from tests.support.scenarios import small

SMALL = small("replay", calls=200, agents=8, teams=1, vendor_agents=0, setup="virtualized")


class Collect:
    def __init__(self, fail_after: int | None = None) -> None:
        self.events: list[Event] = []
        self.fail_after = fail_after

    def send(self, event: Event) -> None:
        if self.fail_after is not None and len(self.events) >= self.fail_after:
            raise ConnectionError("broker went away")
        self.events.append(event)

    def flush(self) -> None:
        """Nothing buffered."""


@pytest.fixture(scope="module")
def fixture_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("replay") / "run"
    simulate_single(SMALL, out, formats=("jsonl",))
    return out / "events.jsonl"


def test_window_keeps_order_and_counts_the_rest(fixture_file: Path) -> None:
    events = list(read_events(fixture_file, "jsonl", b""))
    start, until = events[0].ts + timedelta(hours=9), events[0].ts + timedelta(hours=11)
    sink = Collect()
    stats = replay(events, sink, start=start, until=until)
    assert sink.events == [e for e in events if start <= e.ts < until]
    assert stats.sent + stats.outside_window == len(events) == stats.read


def test_pacing_at_sixty_times_real_time(fixture_file: Path) -> None:
    events = list(read_events(fixture_file, "jsonl", b""))[:300]
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    replay(events, Collect(), speed=60, sleep=sleep, monotonic=lambda: now[0])
    span = (events[-1].ts - events[0].ts).total_seconds()
    assert sum(slept) == pytest.approx(span / 60, rel=1e-6)


def test_an_interrupted_replay_resumes_without_losing_or_repeating(
    fixture_file: Path, tmp_path: Path
) -> None:
    events = list(read_events(fixture_file, "jsonl", b""))
    resume = tmp_path / "resume"
    assert len(events) > 1500
    first = Collect(fail_after=1500)
    with pytest.raises(ConnectionError):
        replay(events, first, resume_file=resume)
    assert resume.read_text() == "1000"  # written at the last flush before the failure
    second = Collect()
    stats = replay(events, second, resume_file=resume)
    assert stats.skipped_resumed == 1000
    delivered = first.events[:1000] + second.events
    assert delivered == events  # the 500 sent after the last flush were re-sent: at-least-once, ids dedupe


def test_bad_lines_are_listed_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"broken": \n\n')
    report = FeedReport("jsonl")
    assert list(read_events(path, "jsonl", b"", report)) == []
    assert (report.read, report.blank, report.accepted, report.unaccounted) == (2, 1, 0, 0)
    assert report.rejects == [
        Reject(1, "json_invalid at <root>: Invalid JSON: EOF while parsing a value at line 1 column 11",
               '{"broken": ')
    ]  # fmt: skip


def test_replay_to_a_json_lines_file_round_trips(fixture_file: Path, tmp_path: Path) -> None:
    events = list(read_events(fixture_file, "jsonl", b""))[:100]
    out = tmp_path / "out.jsonl"
    output = JsonLinesOutput(out, append=False)
    stats = replay(events, output)
    output.close()
    assert isinstance(stats, ReplayStats)
    assert [decode_event(line) for line in out.read_bytes().splitlines()] == events


def test_real_feeds_replay_through_their_adapters(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from acdscope.cli import app

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
    cases = [
        (["--format", "asterisk"], fixtures / "asterisk_queue_log.txt", 21, 2),
        (["--format", "connect-ctr"], fixtures / "connect_ctr.jsonl", 15, 1),
        (
            ["--format", "csv", "--mapping", str(fixtures / "cdr_mapping.toml")],
            fixtures / "cdr_export.csv",
            11,
            3,
        ),
        (["--format", "taskrouter"], fixtures / "twilio_taskrouter.jsonl", 21, 2),
        (["--format", "genesys"], fixtures / "genesys_conversations.jsonl", 12, 1),
        (["--format", "genesys-users"], fixtures / "genesys_user_events.jsonl", 20, 2),
        (["--format", "connect-agents"], fixtures / "connect_agent_events.jsonl", 8, 1),
        # a saved query response: two pretty-printed pages in one file (tests/unit/test_genesys.py)
        (["--format", "genesys"], fixtures / "genesys" / "query_response.json", 27, 0),
        # a folder: a websocket capture and an EventBridge delivery (tests/unit/test_genesys_events.py)
        (["--format", "genesys-events"], fixtures / "genesys_events", 36, 3),
        (
            ["--format", "ucce-tcd", "--mapping", str(fixtures / "ucce" / "ucce_mapping.toml")],
            fixtures / "ucce" / "tcd_export.csv",
            78,
            3,
        ),
    ]
    for options, source, sent, rejected in cases:
        out = tmp_path / f"{source.stem}.jsonl"
        rejects = tmp_path / f"{source.stem}.rejects.jsonl"
        result = CliRunner().invoke(
            app,
            [
                "replay",
                str(source),
                *options,
                "--to",
                str(out),
                "--tenant",
                "acme",
                "--rejects",
                str(rejects),
            ],
        )
        assert result.exit_code == 0, result.output
        assert f"{sent:,} sent to" in result.output, result.output
        assert len(rejects.read_text().splitlines()) == rejected, result.output
        lines = out.read_bytes().splitlines()
        assert len(lines) == sent
        assert all(
            decode_event(line).tenant == "acme" for line in lines if b"vendor.interval_report" not in line
        )
