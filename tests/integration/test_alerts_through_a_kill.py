"""Alerts end to end through a worker SIGKILL: the fault run's three setups stream through a worker that is
killed mid-stream and started again, while `acdscope alerts-webhook` POSTs to a real local receiver. Every
transition in the `alerts` table (which the fault tests hold equal to the uninterrupted run's) reaches the
receiver exactly once, signed, though the restarted worker publishes again what it re-derives."""

from __future__ import annotations

import signal
import time
from collections import Counter

import pytest

from streams.warehouse.migrations import migrate
from tests.support.faults import FaultRun
from tests.support.webhook import Deliverer
from tests.support.webhook import expected_signature
from tests.support.webhook import receiver

pytestmark = pytest.mark.integration

SECRET = "whsec-kill-test"


def test_no_alert_is_lost_or_delivered_twice_through_a_worker_kill(
    servers, clickhouse_db, topic_suffix, tmp_path
):
    dsn, client = clickhouse_db
    migrate(client)
    run = FaultRun(servers.kafka_bootstrap, dsn, topic_suffix, tmp_path, ACDSCOPE_FAUST_SESSION_TIMEOUT_S="6",
                   ACDSCOPE_ALERT_WEBHOOK_SECRET=SECRET)  # fmt: skip
    with receiver() as hook:
        deliverer = Deliverer(run.env, hook.url, tmp_path / "webhook.log")
        run.publish(run.scenarios[0])
        worker = run.start_worker()
        try:
            run.publish(run.scenarios[1])
            run.wait_checkpointed(client, worker, rows=2)
            deliverer.start()  # the alerts topic exists once the worker has declared it
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        run.publish(run.scenarios[2])
        worker = run.start_worker()
        try:
            run.assert_exact(client, worker)
            run.wait_caught_up(worker)
            keys = sorted(
                key for (key,) in client.query("select idempotency_key from alerts final").result_rows
            )
            assert len(keys) >= 5, keys  # the bank's rules find something to say in all three setups
            deadline = time.monotonic() + 90
            while set(hook.keys()) != set(keys) and time.monotonic() < deadline:
                deliverer.alive()
                time.sleep(0.2)
            time.sleep(2)  # anything delivered twice would arrive by now
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
            deliverer.kill(signal.SIGTERM)
        assert Counter(hook.keys()) == Counter(dict.fromkeys(keys, 1)), deliverer.text()[-3000:]
        for request in hook.requests:
            _, received, expected = expected_signature(
                SECRET.encode(), request.headers["X-Acdscope-Signature"], request.body
            )
            assert received == expected
        delivered = client.query(
            "select count(), countIf(status = 'delivered') from alert_deliveries final"
        ).result_rows[0]
        assert delivered == (len(keys), len(keys))
