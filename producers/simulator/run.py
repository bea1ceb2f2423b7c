"""Run scenarios to files: one scenario, or the same demand through all 3 setups x 3 engagement models.

Writes into a temporary directory and renames it into place at the end, so a failed run leaves nothing
half-written behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Literal

from producers.simulator.core import Simulation
from producers.simulator.demand import Demand
from producers.simulator.demand import daily_calls
from producers.simulator.output import JsonLinesSink
from producers.simulator.output import MemorySink
from producers.simulator.output import ParquetSink
from producers.simulator.output import RowSink
from producers.simulator.output import write_truth
from producers.simulator.scenario import ENGAGEMENTS
from producers.simulator.scenario import SETUPS
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import variant
from producers.simulator.truth import TruthRecorder

Format = Literal["parquet", "jsonl"]
DEFAULT_CALLER_KEY_ENV = "ACDSCOPE_CALLER_HASH_KEY"


def caller_key_from_env() -> bytes:
    """The caller-hash key comes from the environment; the simulator's fallback is fixed and says so in its name,
    so simulated hashes are reproducible and never mistaken for a production key."""
    return os.environ.get(DEFAULT_CALLER_KEY_ENV, "acdscope-simulator-not-a-secret").encode()


@dataclass(frozen=True)
class RunResult:
    scenario: Scenario
    events: int
    directory: Path


class _Fanout(RowSink):
    """Every format gets every row; ids come from the same seed, so JSON lines and Parquet hold identical events."""

    def __init__(self, seed: int | str, sinks: Sequence[RowSink]) -> None:
        super().__init__(seed)
        self._sinks = sinks

    def write_batch(self, codes: list[int], by_code: list[list[tuple[int, tuple[Any, ...]]]]) -> None:
        for sink in self._sinks:
            sink.count += len(codes)
            sink.write_batch(codes, by_code)

    def close(self) -> None:
        self.drain()
        for sink in self._sinks:
            sink.close()


def simulate_one(
    scenario: Scenario,
    directory: Path,
    formats: Sequence[Format] = ("parquet",),
    caller_key: bytes | None = None,
    on_day: Callable[[int], None] | None = None,
) -> RunResult:
    """`events.parquet` / `events.jsonl` plus the truth tables, in `directory` (which must not exist yet)."""
    sinks: list[RowSink] = []
    seed = f"{scenario.seed}:{scenario.tenant()}"
    for fmt in formats:
        if fmt == "parquet":
            sinks.append(ParquetSink(directory / "events.parquet", seed))
        else:
            sinks.append(JsonLinesSink(directory / "events.jsonl", seed))
    sink: RowSink = sinks[0] if len(sinks) == 1 else _Fanout(seed, sinks)
    truth = TruthRecorder()
    try:
        Simulation(scenario, sink, truth, caller_key or caller_key_from_env(), on_day).run()
    finally:
        sink.close()
    write_truth(truth, directory)
    (directory / "scenario.json").write_text(scenario.model_dump_json(indent=2))
    return RunResult(scenario, sink.count, directory)


def simulate_to_kafka(
    scenario: Scenario,
    out: Path,
    bootstrap: str,
    caller_key: bytes | None = None,
    topics: dict[str, str] | None = None,
    security: Mapping[str, Any] | None = None,
    pace: Callable[[RowSink], RowSink] | None = None,
) -> RunResult:
    """Events to the contract's Kafka topics, the truth tables (and scenario) to `out`; `pace` wraps the
    Kafka sink (a live run's `producers.simulator.live.PacedSink`)."""
    results = _atomic(
        out, lambda tmp: [_publish_one(scenario, tmp, bootstrap, caller_key, topics, security, pace)]
    )
    return results[0]


def simulate_paired_to_kafka(
    base: Scenario,
    out: Path,
    bootstrap: str,
    caller_key: bytes | None = None,
    topics: dict[str, str] | None = None,
    security: Mapping[str, Any] | None = None,
    setups: Sequence[str] = SETUPS,
    engagements: Sequence[str] = ENGAGEMENTS,
    on_run: Callable[[Scenario], None] | None = None,
) -> list[RunResult]:
    """`simulate_paired` to Kafka: every variant published, one after the other, on the same topics.

    The variants stay apart downstream because each is its own tenant (its name: every event carries it, and
    contact ids start with it), as the embedded demo feeds them through one pipeline; each variant's truth
    goes to its own directory under `out`, laid out as `simulate_paired` lays out files. A variant that fails
    leaves the ones before it published (Kafka has no rollback) but, as always, nothing under `out`.
    """

    def work(tmp: Path) -> list[RunResult]:
        results = []
        for scenario in _variants(base, setups, engagements):
            results.append(
                _publish_one(scenario, tmp / scenario.name, bootstrap, caller_key, topics, security)
            )
            if on_run is not None:
                on_run(scenario)
        return results

    return _atomic(out, work)


def _publish_one(
    scenario: Scenario,
    directory: Path,
    bootstrap: str,
    caller_key: bytes | None,
    topics: dict[str, str] | None,
    security: Mapping[str, Any] | None,
    pace: Callable[[RowSink], RowSink] | None = None,
) -> RunResult:
    """One scenario's events to Kafka (flushed before it returns), its truth and scenario into `directory`."""
    from producers.simulator.kafka_sink import KafkaSink

    sink = KafkaSink(bootstrap, f"{scenario.seed}:{scenario.tenant()}", topics, security)
    outer: RowSink = sink if pace is None else pace(sink)
    truth = TruthRecorder()
    try:
        Simulation(scenario, outer, truth, caller_key or caller_key_from_env()).run()
    finally:
        outer.close()
    write_truth(truth, directory)
    (directory / "scenario.json").write_text(scenario.model_dump_json(indent=2))
    return RunResult(scenario, sink.count, directory)


def simulate_in_memory(
    scenario: Scenario, caller_key: bytes = b"test-key", demand: Demand = daily_calls
) -> tuple[MemorySink, TruthRecorder]:
    sink = MemorySink(f"{scenario.seed}:{scenario.tenant()}")
    truth = TruthRecorder()
    Simulation(scenario, sink, truth, caller_key, demand=demand).run()
    return sink, truth


def simulate_paired(
    base: Scenario,
    out: Path,
    formats: Sequence[Format] = ("parquet",),
    caller_key: bytes | None = None,
    setups: Sequence[str] = SETUPS,
    engagements: Sequence[str] = ENGAGEMENTS,
    on_run: Callable[[Scenario], None] | None = None,
) -> list[RunResult]:
    """The same demand through every setup x engagement; each variant gets its own directory under `out`."""
    variants = _variants(base, setups, engagements)
    return _atomic(out, lambda tmp: [_run_variant(v, tmp, formats, caller_key, on_run) for v in variants])


def _variants(base: Scenario, setups: Sequence[str], engagements: Sequence[str]) -> list[Scenario]:
    """The paired runs, in one order for files and Kafka alike: setups outer, engagement models inner."""
    return [variant(base, s, e) for s in setups for e in engagements]  # type: ignore[arg-type]


def simulate_single(
    scenario: Scenario, out: Path, formats: Sequence[Format] = ("parquet",), caller_key: bytes | None = None
) -> RunResult:
    results = _atomic(out, lambda tmp: [simulate_one(scenario, tmp, formats, caller_key)])
    return results[0]


def _run_variant(
    scenario: Scenario,
    tmp: Path,
    formats: Sequence[Format],
    caller_key: bytes | None,
    on_run: Callable[[Scenario], None] | None,
) -> RunResult:
    result = simulate_one(scenario, tmp / scenario.name, formats, caller_key)
    if on_run is not None:
        on_run(scenario)
    return result


def _atomic(out: Path, work: Callable[[Path], list[RunResult]]) -> list[RunResult]:
    if out.exists():
        raise FileExistsError(f"{out} exists; choose a new output directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        results = work(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.rename(out)
    return [RunResult(r.scenario, r.events, out / r.directory.relative_to(tmp)) for r in results]
