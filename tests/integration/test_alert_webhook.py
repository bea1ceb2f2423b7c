"""`acdscope alerts-webhook` on the real broker and ClickHouse endpoint, POSTing to a real local receiver: every
distinct alert transition arrives once, signed, recorded in `alert_deliveries`; one the worker published twice
arrives once; after a SIGKILL and a restart only what is new arrives; a SIGTERM mid-retry stops it at once,
and what it was retrying is delivered by the next start."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client
from kafka import KafkaAdminClient
from kafka import KafkaProducer

from producers.kafka_out import ensure_topics
from streams.warehouse.migrations import migrate
from tests.support.webhook import Answer
from tests.support.webhook import Deliverer
from tests.support.webhook import Receiver
from tests.support.webhook import encoded
from tests.support.webhook import expected_signature
from tests.support.webhook import receiver
from tests.support.webhook import transition
from tests.support.webhook import wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec-integration-test"


def publish(bootstrap: str, topic: str, values: list[dict[str, Any]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for value in values:
        producer.send(topic, key=value["alert_id"].encode(), value=encoded(value))
    producer.flush()
    producer.close()


def committed(bootstrap: str, group: str, topic: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets({group: None}).get(group, {})
    finally:
        admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


def delivered_rows(client: Client) -> list[tuple[Any, ...]]:
    query = "select idempotency_key, status, http_status, attempts from alert_deliveries final order by 1"
    return [tuple(row) for row in client.query(query).result_rows]


def check_requests(hook: Receiver, values: list[dict[str, Any]]) -> None:
    """Each value's transition arrived exactly once, its body the bytes published, its signature valid."""
    by_key = {request.key: request for request in hook.requests}
    assert Counter(hook.keys()) == Counter({value["idempotency_key"]: 1 for value in values})
    for value in values:
        request = by_key[value["idempotency_key"]]
        assert request.body == encoded(value)
        _, received, expected = expected_signature(
            SECRET.encode(), request.headers["X-Acdscope-Signature"], request.body
        )
        assert received == expected
        assert abs(int(request.headers["X-Acdscope-Signature"][2:12]) - time.time()) < 300


def test_each_alert_transition_reaches_the_webhook_once_across_duplicates_kills_and_stops(
    servers, clickhouse_db, topic_suffix, tmp_path
) -> None:
    dsn, client = clickhouse_db
    migrate(client)
    topic, app_id = f"acd.alerts.{topic_suffix}", f"acd-test-{topic_suffix}"
    group = f"{app_id}-alert-webhook"
    ensure_topics(servers.kafka_bootstrap, {topic: 2})
    first = [transition(f"a{n}") for n in range(3)]
    later = [transition(f"a{n}") for n in range(3, 5)]
    with receiver() as hook:
        env = dict(
            os.environ,
            ACDSCOPE_KAFKA_BOOTSTRAP=servers.kafka_bootstrap,
            ACDSCOPE_CLICKHOUSE_DSN=dsn,
            ACDSCOPE_TOPIC_ALERTS=topic,
            ACDSCOPE_FAUST_APP_ID=app_id,
            ACDSCOPE_ALERT_WEBHOOK_SECRET=SECRET,
        )
        deliverer = Deliverer(env, hook.url, tmp_path / "deliverer.log")
        # Three transitions and the first again, as the worker re-derives it after a crash: same key, same body.
        publish(servers.kafka_bootstrap, topic, [*first, first[0]])
        deliverer.start()
        wait_until(
            lambda: committed(servers.kafka_bootstrap, group, topic) == 4, deliverer, "4 offsets committed"
        )
        check_requests(hook, first)
        assert delivered_rows(client) == sorted((v["idempotency_key"], "delivered", 200, 1) for v in first)
        assert "duplicate, delivered before; not POSTed" in deliverer.text()
        assert "token" not in deliverer.text()  # the URL's path and query are never logged

        assert deliverer.kill(signal.SIGKILL) == -signal.SIGKILL
        # Two new transitions, and one of the first re-published: the restart must POST only the new ones.
        publish(servers.kafka_bootstrap, topic, [*later, first[1]])
        deliverer.start()
        wait_until(
            lambda: committed(servers.kafka_bootstrap, group, topic) == 7, deliverer, "7 offsets committed"
        )
        check_requests(hook, [*first, *later])
        assert len(delivered_rows(client)) == 5

        # The receiver fails for a while; a SIGTERM in the middle of the retries stops the deliverer at once,
        # with the offset uncommitted and nothing recorded, and the next start delivers it.
        hook.default = Answer(503)
        retried = transition("a5")
        publish(servers.kafka_bootstrap, topic, [retried])
        wait_until(lambda: deliverer.text().count("retrying in") >= 2, deliverer, "two failed attempts")
        began = time.monotonic()
        assert deliverer.kill(signal.SIGTERM) == 0
        assert time.monotonic() - began < 5
        assert committed(servers.kafka_bootstrap, group, topic) == 7
        assert len(delivered_rows(client)) == 5
        hook.default = Answer(200)
        deliverer.start()
        wait_until(
            lambda: committed(servers.kafka_bootstrap, group, topic) == 8, deliverer, "8 offsets committed"
        )
        assert Counter(hook.keys())[retried["idempotency_key"]] >= 3  # 2+ refused, then the one delivered
        assert (retried["idempotency_key"], "delivered", 200, 1) in delivered_rows(client)
        assert deliverer.kill(signal.SIGINT) == 0
