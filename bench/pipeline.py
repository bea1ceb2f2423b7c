"""Kafka -> Faust worker -> ClickHouse throughput, side by side with a raw `aiokafka` consume + JSON decode loop
over the same topics, in the same run, on the local stack (a real broker and the chDB endpoint).

Both consumers read the same simulator events already in Kafka, each pinned to the same single CPU (the broker
and the ClickHouse endpoint get the other). Start-up and group joins are excluded from both figures:
- raw loop: from the first fetched batch to the last message, counted and `orjson`-decoded;
- worker: from its first sink flush with events to the first flush that holds all of them, read from its
  log (each flush logs the events accepted so far); the worker flushes and checkpoints every second here.
The worker also runs with 2 processes (2 consumer-group members, the topics' partitions split between them),
when the machine has the cores for it, for the scale-out figure.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench.engine import mix, pin_one_core
from producers.kafka_out import ensure_topics
from streams.events import decode_event, event_key

ROOT = Path(__file__).resolve().parents[1]
PARTITIONS = 4
TARGET_RATIO = 0.5
_FLUSH = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\].*sink flushed \d+ rows .*accepted (\d+), dead letters (\d+)"
)


def _produce(bootstrap: str, topics: dict[str, str], days: int) -> int:
    from kafka import KafkaProducer

    records, _ = mix(days)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, batch_size=512 * 1024, compression_type=None
    )
    for record in records:
        value = record.value or b""
        producer.send(topics[record.topic], key=event_key(decode_event(value)), value=value)
    producer.flush()
    producer.close()
    return len(records)


async def _raw_loop(bootstrap: str, topics: list[str], expected: int) -> float:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        count = 0
        first = None
        while count < expected:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            for messages in batches.values():
                if first is None:
                    first = time.perf_counter()
                for message in messages:
                    orjson.loads(message.value)
                count += len(messages)
        assert first is not None
        return expected / (time.perf_counter() - first)
    finally:
        await consumer.stop()


def _raw_pinned(bootstrap: str, topics: list[str], expected: int) -> float:
    pin_one_core()
    return asyncio.run(_raw_loop(bootstrap, topics, expected))


def _raw(bootstrap: str, topics: list[str], expected: int) -> float:
    """In a child process: pinning it must not pin the workers started after it."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return float(pool.apply(_raw_pinned, (bootstrap, topics, expected)))


def _flushes(log: Path) -> list[tuple[float, int, int]]:
    out = []
    for line in log.read_text(errors="replace").splitlines():
        match = _FLUSH.match(line)
        if match:
            # The log's local wall clock; only differences between its lines are used.
            at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC).timestamp()
            out.append((at, int(match.group(2)), int(match.group(3))))
    return out


def _workers(
    count: int, env: dict[str, str], expected: int, work: Path, timeout_s: float = 600
) -> tuple[float, list[Path]]:
    """`count` worker processes in one group; events/s from their flush lines (summed across workers)."""
    logs = [work / f"worker-{count}-{i}.log" for i in range(count)]
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    processes = []
    for i, log in enumerate(logs):
        profile = (
            ["-m", "cProfile", "-o", f"{os.environ['BENCH_PROFILE']}.{count}.{i}"]
            if os.environ.get("BENCH_PROFILE")
            else []
        )
        command = [
            sys.executable,
            *profile,
            "-m",
            "faust",
            "-A",
            "streams.edge.app",
            "worker",
            "-l",
            "info",
            "--without-web",
        ]
        if cpus:  # one CPU each, from the first: one worker shares nothing it would not share in production
            command = ["taskset", "-c", str(cpus[i % len(cpus)]), *command]
        processes.append(
            subprocess.Popen(
                command,
                env={**env, "ACDSCOPE_FAUST_DATA_DIR": str(work / f"faust-{count}-{i}")},
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            flushes = [_flushes(log) for log in logs]
            if sum(f[-1][1] + f[-1][2] if f else 0 for f in flushes) >= expected:
                break
            for process, log in zip(processes, logs, strict=True):
                if process.poll() is not None:
                    raise RuntimeError(f"worker exited early:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"workers did not finish in {timeout_s} s; logs: {logs}")
            time.sleep(0.5)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    starts = [next(at for at, accepted, _ in f if accepted > 0) for f in flushes if f]
    ends = [
        next(at for at, accepted, dead in f if accepted + dead >= f[-1][1] + f[-1][2]) for f in flushes if f
    ]
    first_flush_events = sum(next(a for _, a, _ in f if a > 0) for f in flushes if f)
    seconds = max(ends) - min(starts)
    return (expected - first_flush_events) / seconds, logs


def run(days: int = 3) -> dict[str, Any]:
    from infra.chdb_server import ChdbServer
    from infra.kafka_local import KafkaLocal
    from streams.warehouse.client import connect
    from streams.warehouse.migrations import migrate

    kafka, clickhouse = KafkaLocal.from_env(), ChdbServer.from_env()
    started_here = not kafka.is_running() or not clickhouse.is_running()
    if started_here:
        subprocess.run([sys.executable, "-m", "infra.stack", "start"], check=True, cwd=ROOT)
    suffix = uuid.uuid4().hex[:8]
    names = {
        "acd.contact-events": f"bench.contact.{suffix}",
        "acd.agent-events": f"bench.agent.{suffix}",
        "acd.vendor-reports": f"bench.reports.{suffix}",
    }
    internal = {"callers": f"bench.callers.{suffix}", "dlq": f"bench.dlq.{suffix}"}
    try:
        bootstrap = kafka.bootstrap
        ensure_topics(bootstrap, {**dict.fromkeys(names.values(), PARTITIONS), internal["callers"]: PARTITIONS,
                                  internal["dlq"]: 1})  # fmt: skip
        expected = _produce(bootstrap, names, days)
        raw_rate = _raw(bootstrap, list(names.values()), expected)
        database = f"bench_{suffix}"
        admin = connect(f"http://{clickhouse.host}:{clickhouse.port}/default")
        admin.command(f"create database {database}")
        dsn = f"http://{clickhouse.host}:{clickhouse.port}/{database}"
        migrate(connect(dsn))
        env = dict(os.environ)
        env.update(
            ACDSCOPE_KAFKA_BOOTSTRAP=bootstrap,
            ACDSCOPE_CLICKHOUSE_DSN=dsn,
            ACDSCOPE_TOPIC_CONTACT_EVENTS=names["acd.contact-events"],
            ACDSCOPE_TOPIC_AGENT_EVENTS=names["acd.agent-events"],
            ACDSCOPE_TOPIC_VENDOR_REPORTS=names["acd.vendor-reports"],
            ACDSCOPE_TOPIC_CALLER_CONTACTS=internal["callers"],
            ACDSCOPE_TOPIC_DEAD_LETTER=internal["dlq"],
            ACDSCOPE_TOPIC_PARTITIONS=str(PARTITIONS),
            ACDSCOPE_CHECKPOINT_INTERVAL_S="1",
            ACDSCOPE_SINK_MAX_AGE_S="1",
        )
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            one, _ = _workers(1, {**env, "ACDSCOPE_FAUST_APP_ID": f"bench-one-{suffix}"}, expected, work)
            two = None
            if len(os.sched_getaffinity(0)) >= 2:
                two, _ = _workers(2, {**env, "ACDSCOPE_FAUST_APP_ID": f"bench-two-{suffix}"}, expected, work)
        ratio = one / raw_rate
    finally:
        if started_here:
            subprocess.run([sys.executable, "-m", "infra.stack", "stop"], check=False, cwd=ROOT)
    scale = f"; 2 workers {two:,.0f}/s ({two / one:.2f}x)" if two else ""
    return {
        "name": "pipeline vs raw consumer",
        "figure": f"worker {one:,.0f} events/s, raw aiokafka+orjson loop {raw_rate:,.0f}/s: ratio {ratio:.2f}{scale}",
        "method": (
            f"{expected:,} simulator events ({days} days x 3 setups) in 3 topics x {PARTITIONS} partitions of the "
            "local broker; each consumer pinned to one CPU; start-up and group join excluded; the worker writes "
            "every row and checkpoint to the local ClickHouse endpoint (flush and checkpoint every 1 s)"
        ),
        "events": expected,
        "worker_events_per_s": round(one),
        "two_workers_events_per_s": round(two) if two else None,
        "raw_events_per_s": round(raw_rate),
        "ratio": round(ratio, 3),
        "target": f"worker >= {TARGET_RATIO} x raw loop",
        "met": ratio >= TARGET_RATIO,
    }


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1))
