"""The Kafka broker restarted mid-stream (run 4 of the fault comparison): the worker rides through the broker
being away, reconnects, and ends with exactly the simulator's truth and, row by row, the reference run's
aggregates; nothing lost, nothing counted twice."""

from __future__ import annotations

import signal
import time

import pytest

from infra.kafka_local import KafkaLocal
from streams.warehouse.migrations import migrate
from tests.support.faults import FaultRun

pytestmark = pytest.mark.integration


def test_broker_restart_mid_stream_loses_nothing(
    servers, clickhouse_db, topic_suffix, tmp_path, fault_reference
):
    dsn, client = clickhouse_db
    migrate(client)
    run = FaultRun(servers.kafka_bootstrap, dsn, topic_suffix, tmp_path)
    broker = KafkaLocal.from_env()
    run.publish(run.scenarios[0])
    worker = run.start_worker()
    try:
        run.wait_checkpointed(client, worker)
        broker.stop()  # mid-stream: the worker is consuming and publishing caller outcomes
        try:
            for _ in range(5):
                assert worker.poll() is None, f"worker died with the broker away:\n{run.log_tail()}"
                time.sleep(1)
        finally:
            broker.start()
            broker.wait_ready()
        for scenario in run.scenarios[1:]:
            run.publish(scenario)  # after the restart, to the same worker
        run.assert_exact(client, worker, timeout_s=180)
        run.assert_same_rows(client, worker, fault_reference)
        assert "Crashed reason=" not in run.log_path.read_text()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
