"""A worker killed with SIGKILL mid-stream and started again (run 2 of the fault comparison) ends with exactly
the aggregates of an uninterrupted run: engine checkpoints are restored and re-read offsets are skipped, not
counted again. Compared with the simulator's truth and, row by row, with the reference run."""

from __future__ import annotations

import signal

import pytest

from streams.warehouse.migrations import migrate
from tests.support.faults import FaultRun

pytestmark = pytest.mark.integration


def test_sigkill_mid_stream_then_restart_counts_everything_exactly_once(
    servers, clickhouse_db, topic_suffix, tmp_path, fault_reference
):
    dsn, client = clickhouse_db
    migrate(client)
    run = FaultRun(servers.kafka_bootstrap, dsn, topic_suffix, tmp_path, ACDSCOPE_FAUST_SESSION_TIMEOUT_S="6")
    run.publish(run.scenarios[0])
    worker = run.start_worker()
    try:
        run.publish(run.scenarios[1])  # arrives while the worker runs
        run.wait_checkpointed(client, worker, rows=2)
    finally:
        worker.send_signal(signal.SIGKILL)  # no clean shutdown, no final checkpoint
        worker.wait()
    killed_at = run.log_path.stat().st_size
    run.publish(run.scenarios[2])  # arrives while no worker runs
    worker = run.start_worker()
    try:
        run.assert_exact(client, worker)
        run.assert_same_rows(client, worker, fault_reference)
        restarted_log = run.log_path.read_text()[killed_at:]
        assert "Crashed reason=" not in restarted_log
        assert "from its checkpoint at offset" in restarted_log
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
