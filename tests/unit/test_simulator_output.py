"""Simulator outputs: Parquet and JSON lines hold the same validated events, truth sits beside them, a paired
run reaches Kafka whole, and a failed or refused run leaves nothing half-written."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from acdscope.cli import app
from producers.simulator.output import read_parquet_events
from producers.simulator.run import simulate_in_memory
from producers.simulator.run import simulate_paired
from producers.simulator.run import simulate_single
from producers.simulator.scenario import ENGAGEMENTS
from producers.simulator.scenario import SETUPS
from producers.simulator.scenario import load_scenario
from producers.simulator.scenario import variant
from streams.events import TOPIC_AGENT_EVENTS
from streams.events import TOPIC_CONTACT_EVENTS
from streams.events import TOPIC_VENDOR_REPORTS
from streams.events import decode_event
from streams.events import event_key
from streams.events import event_topic
from tests.support.scenarios import small

SMALL = small("tiny", setup="virtualized")


def test_parquet_and_json_lines_hold_identical_events(tmp_path: Path) -> None:
    result = simulate_single(SMALL, tmp_path / "run", formats=("parquet", "jsonl"))
    from_parquet = list(read_parquet_events(result.directory / "events.parquet"))
    lines = (result.directory / "events.jsonl").read_bytes().splitlines()
    from_jsonl = [decode_event(line) for line in lines]
    assert len(from_parquet) == len(from_jsonl) == result.events > 1000
    assert from_parquet == from_jsonl
    assert [e.ts for e in from_parquet] == sorted(e.ts for e in from_parquet)


def test_truth_tables_sit_next_to_the_events(tmp_path: Path) -> None:
    result = simulate_single(SMALL, tmp_path / "run")
    legs = pq.read_table(result.directory / "truth_legs.parquet").to_pylist()
    answered_events = sum(
        1 for e in read_parquet_events(result.directory / "events.parquet") if e.type == "contact.answered"
    )
    assert answered_events == sum(1 for leg in legs if leg["outcome"] == "answered")
    intervals = pq.read_table(result.directory / "truth_intervals.parquet").to_pylist()
    calls = [leg for leg in legs if leg["entry"] != "transfer"]
    assert sum(row["offered"] for row in intervals) == len(calls)
    assert sum(row["transferred_in"] for row in intervals) == len(legs) - len(calls)
    assert sum(row["answered"] for row in intervals) == sum(
        1 for leg in calls if leg["outcome"] == "answered"
    )
    assert sum(row["handled"] for row in intervals) == answered_events
    assert {row["interval_start_ms"] % (15 * 60_000) for row in intervals} == {0}
    summary = json.loads((result.directory / "truth_summary.json").read_text())
    assert summary["legs"] == len(legs)
    assert json.loads((result.directory / "scenario.json").read_text())["name"] == "tiny"


def test_paired_run_writes_nine_variants(tmp_path: Path) -> None:
    results = simulate_paired(SMALL, tmp_path / "paired")
    assert sorted(p.name for p in (tmp_path / "paired").iterdir()) == sorted(r.scenario.name for r in results)
    assert len(results) == 9


def test_existing_output_is_refused_and_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        simulate_single(SMALL, out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_a_failing_run_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import producers.simulator.run as run_module

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(run_module, "write_truth", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        simulate_single(SMALL, tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_cli_rejects_a_bad_scenario_naming_the_field(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(
        "[engagement]\nmodel = 'shared'\nshared_mode = 'split'\nsplit = { in-house = 70, vendor-a = 20 }\n"
    )
    result = CliRunner().invoke(
        app, ["simulate", "--out", str(tmp_path / "out"), "--scenario", str(scenario)]
    )
    assert result.exit_code == 2
    assert "engagement.split" in result.output
    assert "90%" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_simulates_a_scenario_file(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: cli\ncall_types:\n  - name: billing\n    daily_volume: 200\nvendors: []\n")
    result = CliRunner().invoke(
        app, ["simulate", "--out", str(tmp_path / "out"), "--scenario", str(scenario)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "events.parquet").is_file()
    assert "events/s" in result.output


class _Producer:
    """Stands in for the Kafka producer: keeps what was sent, in order, and whether it was flushed and closed."""

    def __init__(self, sent: list[tuple[str, bytes, bytes]]) -> None:
        self.sent = sent
        self.unflushed = 0
        self.closed = False

    def send(self, topic: str, *, key: bytes, value: bytes) -> None:
        assert not self.closed
        self.sent.append((topic, key, value))
        self.unflushed += 1

    def flush(self) -> None:
        self.unflushed = 0

    def close(self) -> None:
        assert self.unflushed == 0, "closed with events not flushed"
        self.closed = True


def test_paired_kafka_run_publishes_every_variant_as_its_own_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `simulate --paired --kafka` used to publish the base scenario once and ignore --paired, silently.
    import producers.kafka_out
    import producers.simulator.kafka_sink
    from acdscope.settings import get_settings

    sent: list[tuple[str, bytes, bytes]] = []
    producers_made: list[_Producer] = []

    def producer(bootstrap: str, security: Any = None) -> _Producer:
        producers_made.append(_Producer(sent))
        return producers_made[-1]

    monkeypatch.setattr(producers.simulator.kafka_sink, "event_producer", producer)
    monkeypatch.setattr(producers.kafka_out, "ensure_topics", lambda *args, **kwargs: None)
    monkeypatch.setenv("ACDSCOPE_CALLER_HASH_KEY", "paired-kafka")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: base\ncall_types:\n  - name: billing\n    daily_volume: 150\n"
        "in_house: {id: in-house, agents: 8, teams: 1}\nvendors:\n  - {id: vendor-a, agents: 4, teams: 1}\n"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["simulate", "--out", str(out), "--scenario", str(scenario), "--paired", "--kafka"]
    )
    assert result.exit_code == 0, result.output

    settings = get_settings()
    topics = {
        TOPIC_CONTACT_EVENTS: settings.topic_contact_events,
        TOPIC_AGENT_EVENTS: settings.topic_agent_events,
        TOPIC_VENDOR_REPORTS: settings.topic_vendor_reports,
    }
    by_tenant: dict[str, list[Any]] = defaultdict(list)
    for topic, key, value in sent:
        event = decode_event(value)
        assert (topic, key) == (topics[event_topic(event)], event_key(event))
        by_tenant[event.tenant].append(event)
    base = load_scenario(scenario)
    variants = [variant(base, s, e) for s in SETUPS for e in ENGAGEMENTS]  # type: ignore[arg-type]
    assert sorted(by_tenant) == sorted(v.tenant() for v in variants)
    assert len(by_tenant) == 9
    for each in variants:
        # Each variant's events whole and in order: what the same variant simulated in memory emits.
        memory, _ = simulate_in_memory(each, caller_key=b"paired-kafka")
        memory.close()
        assert by_tenant[each.tenant()] == list(memory.events()), each.name
        # Its truth beside it, as a paired run to files lays it out.
        assert (out / each.name / "truth_legs.parquet").is_file()
        assert f"Kafka as tenant {each.tenant()}" in result.output
    assert all(made.closed for made in producers_made)
