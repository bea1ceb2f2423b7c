"""A worker waits for ClickHouse instead of exiting, and stops on SIGTERM within 10 s in every state: while it
waits for ClickHouse at start, with ClickHouse gone or hung mid-stream, with the broker gone, mid-rebalance.
Each stop is timed; each must be the worker's own clean stop (exit 0), not its watchdog's forced exit (1), and
what the stop left unwritten is re-read by the next worker, which ends with exactly the simulator's truth.

The servers a test breaks are its own (a second ClickHouse endpoint, a second broker, on free ports), so the
session's shared servers are never stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from infra.chdb_server import ChdbServer
from infra.kafka_local import KafkaLocal
from streams.warehouse.client import connect
from streams.warehouse.migrations import migrate
from tests.support.faults import SETUPS
from tests.support.faults import FaultRun
from tests.support.faults import timed_stop

pytestmark = pytest.mark.integration

STOP_WITHIN_S = 10.0
WAITING = "waiting for ClickHouse at"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def own_endpoint(tmp_path: Path) -> ChdbServer:
    """A ClickHouse endpoint of this test's own, with the schema in `default`, running."""
    endpoint = ChdbServer(port=free_port(), data_dir=tmp_path / "chdb")
    endpoint.start()
    endpoint.wait_ready()
    client = connect(f"{endpoint.url}/default")
    migrate(client)
    client.close()
    return endpoint


def wait_for_log(
    run: FaultRun, worker: subprocess.Popen[bytes], text: str, after: int = 0, count: int = 1
) -> None:
    """Until `text` is in the worker log (past byte `after`) `count` times; the worker must stay up meanwhile."""
    deadline = time.monotonic() + 90
    while run.log_path.read_bytes()[after:].decode(errors="replace").count(text) < count:
        assert worker.poll() is None, f"worker exited ({worker.returncode}):\n{run.log_tail()}"
        assert time.monotonic() < deadline, f"no {text!r} in the worker log:\n{run.log_tail()}"
        time.sleep(0.2)


def assert_clean_stop(run: FaultRun, worker: subprocess.Popen[bytes], state: str) -> float:
    code, seconds = timed_stop(worker)
    print(f"SIGTERM {state}: exit {code} in {seconds:.1f} s")
    assert seconds < STOP_WITHIN_S, f"{state}: {seconds:.1f} s to stop\n{run.log_tail()}"
    assert code == 0, f"{state}: exit {code} (1 is the watchdog's forced exit)\n{run.log_tail()}"
    return seconds


def test_started_while_clickhouse_is_unreachable_it_waits_then_counts_exactly(
    servers, topic_suffix, tmp_path
):
    endpoint = own_endpoint(tmp_path)
    endpoint.stop()  # down, with its schema, before any worker starts
    try:
        dsn = f"{endpoint.url}/default"
        run = FaultRun(servers.kafka_bootstrap, dsn, topic_suffix, tmp_path, setups=SETUPS[:1])
        run.publish(run.scenarios[0])
        first = run.start_worker()
        try:
            wait_for_log(run, first, WAITING, count=4)  # retrying with backoff, not exiting
        finally:
            assert_clean_stop(run, first, "while waiting for ClickHouse at start")
        mark = run.log_path.stat().st_size
        worker = run.start_worker()
        try:
            wait_for_log(run, worker, WAITING, after=mark)
            time.sleep(3)
            assert worker.poll() is None, run.log_tail()
            endpoint.start()
            endpoint.wait_ready()
            client = connect(dsn)
            try:
                run.assert_exact(client, worker)
                run.wait_caught_up(worker)
            finally:
                client.close()
            text = run.log_path.read_text()[mark:]
            assert "answers: consuming" in text
            assert "Crashed reason=" not in text
        finally:
            assert_clean_stop(run, worker, "after catching up")
    finally:
        endpoint.stop()


def test_sigterm_with_clickhouse_gone_mid_stream_then_a_restart_ends_exact(
    servers, topic_suffix, tmp_path, fault_reference
):
    endpoint = own_endpoint(tmp_path)
    dsn = f"{endpoint.url}/default"
    try:
        run = FaultRun(servers.kafka_bootstrap, dsn, topic_suffix, tmp_path, ACDSCOPE_SINK_MAX_ROWS="250")
        run.publish(run.scenarios[0])
        worker = run.start_worker()
        try:
            client = connect(dsn)
            run.wait_checkpointed(client, worker)
            client.close()
            endpoint.stop()  # mid-stream
            for scenario in run.scenarios[1:]:
                run.publish(scenario)  # arrives while ClickHouse is away
            wait_for_log(run, worker, "sink write failed")
        finally:
            assert_clean_stop(run, worker, "with ClickHouse gone mid-stream")
        endpoint.start()
        endpoint.wait_ready()
        mark = run.log_path.stat().st_size
        worker = run.start_worker()
        client = connect(dsn)
        try:
            run.assert_exact(client, worker)
            run.assert_same_rows(client, worker, fault_reference)
            assert "Crashed reason=" not in run.log_path.read_text()[mark:]
        finally:
            client.close()
            assert_clean_stop(run, worker, "after catching up")
    finally:
        endpoint.stop()


def test_sigterm_with_clickhouse_hung_mid_write(servers, topic_suffix, tmp_path):
    """ClickHouse accepts connections and never answers (the endpoint is frozen with SIGSTOP): a write in
    flight waits for the client's receive timeout, minutes; the stop must not wait for it."""
    endpoint = own_endpoint(tmp_path)
    pid = endpoint.pid()
    assert pid is not None
    dsn = f"{endpoint.url}/default"
    try:
        run = FaultRun(servers.kafka_bootstrap, dsn, topic_suffix, tmp_path, setups=SETUPS[:2])
        run.publish(run.scenarios[0])
        worker = run.start_worker()
        try:
            client = connect(dsn)
            run.wait_checkpointed(client, worker)
            client.close()
            os.kill(pid, signal.SIGSTOP)
            time.sleep(1.5)  # a flush answered before the freeze is logged by now
            mark = run.log_path.stat().st_size
            run.publish(run.scenarios[1])
            time.sleep(4)  # a flush is due every second: one is in flight, stuck
            assert "sink flushed" not in run.log_path.read_text()[mark:], run.log_tail()
        finally:
            assert_clean_stop(run, worker, "with ClickHouse hung mid-write")
            os.kill(pid, signal.SIGCONT)
        worker = run.start_worker()
        client = connect(dsn)
        try:
            run.assert_exact(client, worker)
        finally:
            client.close()
            assert_clean_stop(run, worker, "after catching up")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)  # or its stop would wait on a frozen process
        endpoint.stop()


def test_sigterm_with_the_broker_gone(clickhouse_db, topic_suffix, tmp_path):
    dsn, client = clickhouse_db
    migrate(client)
    broker = KafkaLocal(
        port=free_port(), controller_port=free_port(), sasl_port=free_port(), home_dir=tmp_path / "kafka"
    )
    broker.start()
    try:
        broker.wait_ready()
        run = FaultRun(broker.bootstrap, dsn, topic_suffix, tmp_path, setups=SETUPS[:1])
        run.publish(run.scenarios[0])
        worker = run.start_worker()
        try:
            run.wait_checkpointed(client, worker)
            broker.stop()
            mark = run.log_path.stat().st_size
            time.sleep(3)
            assert worker.poll() is None, run.log_tail()
            assert "Unable connect to node" in run.log_path.read_text()[mark:]  # it noticed
        finally:
            assert_clean_stop(run, worker, "with the broker gone")
        broker.start()
        broker.wait_ready()
        worker = run.start_worker()
        try:
            run.assert_exact(client, worker)
            run.wait_caught_up(worker)
        finally:
            assert_clean_stop(run, worker, "after catching up")
    finally:
        broker.stop()


def test_sigterm_mid_rebalance(servers, clickhouse_db, topic_suffix, tmp_path, fault_reference):
    """A second worker joins the group; the first is stopped while the group rebalances. The second ends with
    every row of the reference run."""
    dsn, client = clickhouse_db
    migrate(client)
    env = {"ACDSCOPE_FAUST_SESSION_TIMEOUT_S": "6"}
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
    run = FaultRun(servers.kafka_bootstrap, dsn, topic_suffix, tmp_path / "first", **env)
    other = FaultRun(servers.kafka_bootstrap, dsn, topic_suffix, tmp_path / "second", **env)
    run.publish(run.scenarios[0])
    first = run.start_worker()
    second = None
    try:
        run.wait_checkpointed(client, first)
        mark = run.log_path.stat().st_size
        second = other.start_worker()
        wait_for_log(run, first, "(Re-)joining group", after=mark)  # the group rebalances
    finally:
        assert_clean_stop(run, first, "mid-rebalance")
    assert second is not None
    try:
        for scenario in run.scenarios[1:]:
            run.publish(scenario)
        run.assert_exact(client, second)
        run.assert_same_rows(client, second, fault_reference)
        assert "Crashed reason=" not in other.log_path.read_text()
    finally:
        assert_clean_stop(other, second, "after catching up")
