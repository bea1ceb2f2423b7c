"""The ClickHouse endpoint stopped for 60 s mid-stream, then started again: the worker neither crashes nor
drops anything. It keeps its rows, stops consuming once its buffer is full, retries with backoff, and ends
with exactly the simulator's truth (quality, overflow, adherence, repeat contacts)."""

from __future__ import annotations

import signal
import time

import pytest

from infra.chdb_server import ChdbServer
from streams.warehouse.migrations import migrate
from tests.support.faults import FaultRun

pytestmark = pytest.mark.integration

OUTAGE_S = 60


def test_clickhouse_down_for_a_minute_loses_nothing(servers, clickhouse_db, topic_suffix, tmp_path):
    dsn, client = clickhouse_db
    migrate(client)
    # A small buffer: the outage must fill it and pause consuming.
    run = FaultRun(servers.kafka_bootstrap, dsn, topic_suffix, tmp_path, ("virtualized", "enterprise_routed"),
                   ACDSCOPE_SINK_MAX_ROWS="250")  # fmt: skip
    endpoint = ChdbServer.from_env()
    run.publish(run.scenarios[0])
    worker = run.start_worker()
    try:
        run.wait_checkpointed(client, worker)
        endpoint.stop()  # mid-stream: the first scenario is partly written
        try:
            run.publish(run.scenarios[1])  # arrives while ClickHouse is away
            down_until = time.monotonic() + OUTAGE_S
            while time.monotonic() < down_until:
                assert worker.poll() is None, f"worker died during the outage:\n{run.log_tail()}"
                time.sleep(1)
        finally:
            endpoint.start()
            endpoint.wait_ready()
        during = run.log_path.read_text()
        assert "sink write failed" in during
        assert "consuming paused" in during  # the buffer filled: bounded memory, no drop
        run.assert_exact(client, worker)
        text = run.log_path.read_text()
        assert "sink writes succeed again" in text
        assert "Crashed reason=" not in text
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
