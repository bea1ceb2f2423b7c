"""Coverage-guided fuzzing (atheris) of the decoders, every feed adapter and the in-process pipeline, a fixed
budget in `make test`.

A fixed seed and number of inputs keep the run reproducible; `python -m tests.fuzz -max_total_time=600` fuzzes
longer by hand. Its first runs found three adapter crashes, an Asterisk time beyond the platform's `time_t`, a
TaskRouter task whose attributes were a number and a Genesys user id past the contract's limit, each stopping
a replay instead of rejecting a line (regressions below); and, in the pipeline, the findings whose regressions
are in `test_engine_quality.py`, `test_hostile_input.py` and `test_adherence.py`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from producers.feeds.asterisk import QueueLogAdapter
from producers.feeds.rejects import Reject
from producers.feeds.twilio import TaskRouterAdapter

ROOT = Path(__file__).resolve().parents[2]
RUNS = 30_000


def test_fuzzing_the_decoders_and_adapters_finds_nothing(tmp_path: Path) -> None:
    flags = [f"-runs={RUNS}", "-seed=1", "-max_len=16384", f"-artifact_prefix={tmp_path}/"]
    done = subprocess.run(
        [sys.executable, "-m", "tests.fuzz", *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    tail = done.stderr[-4000:]
    assert done.returncode == 0, f"the fuzzer found an input that crashes a target:\n{tail}"
    assert f"Done {RUNS} runs" in done.stderr, tail
    # Coverage feedback works (the targets are instrumented), or the fuzzer only replays its seeds.
    assert "no interesting inputs were found" not in done.stderr, tail


def test_an_asterisk_time_beyond_the_platform_range_is_a_reject() -> None:
    lines = ["99999999999999999999|c1|sales|NONE|ENTERQUEUE||+15550100|1", "1767600000|c2|sales|NONE|NONE|"]
    items = list(QueueLogAdapter(tenant="t").adapt(lines))
    rejects = [item for item in items if isinstance(item, Reject)]
    assert [reject.line for reject in rejects] == [1, 2]
    # Line 2 is read on after line 1's overflow, and rejected for its own reason: `NONE` names no event.
    assert rejects[1].reason == "'NONE' is not a documented queue_log event"


def test_taskrouter_attributes_of_the_wrong_shape_are_a_reject() -> None:
    line = json.dumps({"EventType": "task.created", "Timestamp": "1767600000", "TaskSid": "WT1",
                       "TaskAttributes": "7"})  # fmt: skip
    items = list(TaskRouterAdapter("t", b"k").adapt([line]))
    assert len(items) == 1
    assert isinstance(items[0], Reject)
    assert items[0].line == 1
    assert "AttributeError" in items[0].reason


def test_a_genesys_user_id_past_the_contracts_limit_is_a_reject() -> None:
    from producers.feeds.genesys_users import GenesysUserAdapter
    from producers.feeds.genesys_users import UserMapping

    fixture = ROOT / "tests" / "fixtures" / "feeds" / "genesys_user_events.jsonl"
    good = fixture.read_text().splitlines()[0]
    long = good.replace("v2.users.u-ana.presence", f"v2.users.u-{'x' * 300}.presence")
    items = list(GenesysUserAdapter(UserMapping()).adapt([good, long]))
    rejects = [item for item in items if isinstance(item, Reject)]
    assert [reject.line for reject in rejects] == [2]
    assert "string_too_long" in rejects[0].reason
    assert len(items) > 1  # the good line still makes its events
