"""Simulator outputs: Parquet and JSON lines hold the same validated events, truth sits beside them, and a failed
or refused run leaves nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from acdscope.cli import app
from producers.simulator.output import read_parquet_events
from producers.simulator.run import simulate_paired
from producers.simulator.run import simulate_single
from streams.events import decode_event
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
    assert sum(row["offered"] for row in intervals) == len(legs)
    assert sum(row["answered"] for row in intervals) == sum(1 for leg in legs if leg["outcome"] == "answered")
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
