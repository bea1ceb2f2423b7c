"""What the benchmarks that need servers share: the local stack, a fresh set of topics and a database per run,
worker processes, and reading progress from their logs."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

from producers.kafka_out import ensure_topics
from streams.edge.records import Record
from streams.events import decode_event
from streams.events import event_key

ROOT = Path(__file__).resolve().parents[1]
PARTITIONS = 4
_FLUSH = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\].*sink flushed \d+ rows .*accepted (\d+) events, dead letters (\d+)"
)


def _child(function: Callable[..., dict[str, Any]], arguments: tuple[Any, ...], out: Any) -> None:
    try:
        out.put(function(*arguments))
    except BaseException as exc:
        out.put({"error": f"{type(exc).__name__}: {exc}"})
        raise


def in_child(function: Callable[..., dict[str, Any]], arguments: tuple[Any, ...]) -> dict[str, Any]:
    """A fresh (non-daemon) process per benchmark, since some start processes of their own; a child that
    dies without a result is an error, not a hang."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_child, args=(function, arguments, out))
    process.start()
    while True:
        try:
            result: dict[str, Any] = out.get(timeout=2.0)
            break
        except queue.Empty:
            if not process.is_alive():
                raise RuntimeError(
                    f"benchmark {function.__module__} died (exit code {process.exitcode})"
                ) from None
    process.join()
    if "error" in result:
        raise RuntimeError(f"benchmark {function.__module__} failed: {result['error']}")
    return result


@dataclass(frozen=True)
class Stack:
    bootstrap: str
    clickhouse_http: str


@contextlib.contextmanager
def local_stack() -> Iterator[Stack]:
    """The running local stack, or one started (and stopped afterwards) for the benchmark."""
    from infra.chdb_server import ChdbServer
    from infra.kafka_local import KafkaLocal

    kafka, clickhouse = KafkaLocal.from_env(), ChdbServer.from_env()
    started_here = not kafka.is_running() or not clickhouse.is_running()
    if started_here:
        subprocess.run([sys.executable, "-m", "infra.stack", "start"], check=True, cwd=ROOT)
    try:
        yield Stack(kafka.bootstrap, f"http://{clickhouse.host}:{clickhouse.port}")
    finally:
        if started_here:
            subprocess.run([sys.executable, "-m", "infra.stack", "stop"], check=False, cwd=ROOT)


@dataclass(frozen=True)
class Run:
    """A fresh set of topics, a fresh database and a consumer group: what one measured worker run reads."""

    stack: Stack
    suffix: str
    topics: dict[str, str]  # contract topic -> this run's topic
    callers: str
    dead_letters: str
    dsn: str
    work: Path

    @classmethod
    def create(cls, stack: Stack, label: str) -> Run:
        from streams.warehouse.client import connect
        from streams.warehouse.migrations import migrate

        suffix = f"{label}-{uuid.uuid4().hex[:6]}"
        topics = {
            "acd.contact-events": f"bench.contact.{suffix}",
            "acd.agent-events": f"bench.agent.{suffix}",
            "acd.vendor-reports": f"bench.reports.{suffix}",
        }
        run = cls(stack, suffix, topics, f"bench.callers.{suffix}", f"bench.dlq.{suffix}",
                  f"{stack.clickhouse_http}/bench_{suffix.replace('-', '_')}",
                  ROOT / ".local" / "bench" / suffix)  # fmt: skip
        ensure_topics(stack.bootstrap, {**dict.fromkeys(topics.values(), PARTITIONS), run.callers: PARTITIONS,
                                        run.dead_letters: 1})  # fmt: skip
        connect(f"{stack.clickhouse_http}/default").command(f"create database {run.dsn.rsplit('/', 1)[1]}")
        migrate(connect(run.dsn))
        run.work.mkdir(parents=True, exist_ok=True)
        return run

    def drop(self) -> None:
        """Remove the run's topics and database: runs must not slow each other down with leftovers."""
        from kafka import KafkaAdminClient

        from streams.warehouse.client import connect

        with contextlib.suppress(Exception):
            connect(f"{self.stack.clickhouse_http}/default").command(
                f"drop database if exists {self.dsn.rsplit('/', 1)[1]} sync"
            )
        admin = KafkaAdminClient(bootstrap_servers=self.stack.bootstrap)
        try:
            with contextlib.suppress(Exception):
                admin.delete_topics([*self.topics.values(), self.callers, self.dead_letters])
        finally:
            admin.close()

    @property
    def group(self) -> str:
        return f"bench-{self.suffix}"

    def env(self, **overrides: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            ACDSCOPE_KAFKA_BOOTSTRAP=self.stack.bootstrap,
            ACDSCOPE_CLICKHOUSE_DSN=self.dsn,
            ACDSCOPE_TOPIC_CONTACT_EVENTS=self.topics["acd.contact-events"],
            ACDSCOPE_TOPIC_AGENT_EVENTS=self.topics["acd.agent-events"],
            ACDSCOPE_TOPIC_VENDOR_REPORTS=self.topics["acd.vendor-reports"],
            ACDSCOPE_TOPIC_CALLER_CONTACTS=self.callers,
            ACDSCOPE_TOPIC_ALERT_INPUTS=f"alert-inputs.{self.suffix}",
            ACDSCOPE_TOPIC_ALERTS=f"alerts.{self.suffix}",
            ACDSCOPE_TOPIC_DEAD_LETTER=self.dead_letters,
            ACDSCOPE_TOPIC_PARTITIONS=str(PARTITIONS),
            ACDSCOPE_FAUST_APP_ID=self.group,
            **overrides,
        )
        return env


def producer(bootstrap: str):  # type: ignore[no-untyped-def]
    from kafka import KafkaProducer

    return KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=5, batch_size=512 * 1024)


def produce(bootstrap: str, topics: dict[str, str], records: Sequence[Record]) -> None:
    """The records to this run's topics, keyed as the contract says, as fast as the client goes."""
    out = producer(bootstrap)
    for record in records:
        value = record.value or b""
        out.send(topics[record.topic], key=event_key(decode_event(value)), value=value)
    out.flush()
    out.close()


def _holds_partitions(assignment: object) -> bool:
    """Whether a decoded ConsumerAssignment names at least one partition (its shape varies by client version)."""
    if isinstance(assignment, dict):
        return any(_holds_partitions(value) for value in assignment.values())
    if isinstance(assignment, (list, tuple)):
        return any(isinstance(item, int) or _holds_partitions(item) for item in assignment)
    return False


class Workers:
    """`count` worker processes in one consumer group, each pinned to its own CPU (while there are CPUs)."""

    def __init__(self, run: Run, count: int, env: dict[str, str]) -> None:
        self.run = run
        self.logs = [run.work / f"worker-{count}-{i}.log" for i in range(count)]
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        self.processes = []
        for i, log in enumerate(self.logs):
            profile = os.environ.get("BENCH_PROFILE")
            # BENCH_APP: a module wrapping the app with timers, to see where a worker's time goes.
            app = os.environ.get("BENCH_APP", "streams.edge.app")
            command = [sys.executable, *(["-m", "cProfile", "-o", f"{profile}.{count}.{i}"] if profile else []),
                       "-m", "faust", "-A", app, "worker", "-l", "info", "--without-web"]  # fmt: skip
            if cpus:
                command = ["taskset", "-c", str(cpus[i % len(cpus)]), *command]
            self.processes.append(
                subprocess.Popen(
                    command,
                    env={**env, "ACDSCOPE_FAUST_DATA_DIR": str(run.work / f"faust-{count}-{i}")},
                    stdout=log.open("wb"),
                    stderr=subprocess.STDOUT,
                    cwd=ROOT,
                )
            )

    def check_alive(self) -> None:
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{log.read_text()[-3000:]}")

    def wait_group(self, timeout_s: float = 120) -> None:
        """Until the group is stable with every worker holding partitions: no rebalance inside a measurement."""
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=self.run.stack.bootstrap)
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                self.check_alive()
                group = admin.describe_groups([self.run.group]).get(self.run.group, {})
                members = group.get("members") or []
                assigned = [m for m in members if _holds_partitions(m.get("member_assignment"))]
                if group.get("group_state") == "Stable" and len(assigned) == len(self.processes):
                    time.sleep(2.0)  # Faust seeks and starts its fetchers after the assignment
                    return
                time.sleep(0.5)
        finally:
            admin.close()
        raise TimeoutError(f"group {self.run.group} not stable with {len(self.processes)} members")

    def flushes(self) -> list[list[tuple[float, int, int]]]:
        """Per worker: (log time, events accepted, dead letters) at each sink flush."""
        out = []
        for log in self.logs:
            lines = []
            for line in log.read_text(errors="replace").splitlines():
                match = _FLUSH.match(line)
                if match:
                    # The log's local wall clock; only differences between its lines are used.
                    at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC)
                    lines.append((at.timestamp(), int(match.group(2)), int(match.group(3))))
            out.append(lines)
        return out

    def wait_counted(self, expected: int, timeout_s: float = 900) -> None:
        deadline = time.monotonic() + timeout_s
        while sum(f[-1][1] + f[-1][2] for f in self.flushes() if f) < expected:
            self.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"workers did not count {expected} events in {timeout_s} s: {self.logs}")
            time.sleep(0.5)

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def rss_mib(self) -> list[float]:
        sizes = []
        for process in self.processes:
            with contextlib.suppress(OSError):
                pages = int(Path(f"/proc/{process.pid}/statm").read_text().split()[1])
                sizes.append(pages * os.sysconf("SC_PAGE_SIZE") / 2**20)
        return sizes
