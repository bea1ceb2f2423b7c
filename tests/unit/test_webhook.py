"""Alert transitions to a webhook, against a real local HTTP receiver, without Kafka or ClickHouse: messages come
from a list, deliveries are recorded in memory, retries wait on a clock that records its sleeps instead of
sleeping. Signatures are checked with `hmac` here, not with the code under test."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

import pytest

from streams.clock import ManualClock
from streams.clock import SystemClock
from streams.edge.records import Record
from streams.edge.settings import EdgeSettings
from streams.edge.webhook import USER_AGENT
from streams.edge.webhook import WebhookDeliverer
from streams.edge.webhook import aiokafka_security
from streams.edge.webhook import check_url
from streams.edge.webhook import sign
from streams.edge.webhook import verify
from streams.warehouse.tables import DeliveryRow
from tests.support.webhook import Answer
from tests.support.webhook import Receiver
from tests.support.webhook import encoded
from tests.support.webhook import expected_signature
from tests.support.webhook import receiver
from tests.support.webhook import transition

TOPIC = "acd.alerts"
WALL = 1_796_212_565.25  # 2026-12-02T10:36:05.25Z: the wall clock every signature and record is dated by
SECRET = b"whsec-test-0123456789"


@dataclass
class RecordingClock(ManualClock):
    """Sleeps take no time and are recorded; past `limit` sleeps it raises, ending a delivery retried forever."""

    sleeps: list[float] = field(default_factory=list)
    limit: int | None = None

    async def sleep(self, seconds: float) -> None:
        if self.limit is not None and len(self.sleeps) >= self.limit:
            raise GaveUp
        self.sleeps.append(seconds)
        await super().sleep(seconds)


class GaveUp(Exception):
    pass


class MemoryStore:
    """`alert_deliveries` in a list; `outages` failed writes first, as an unreachable ClickHouse."""

    transient: tuple[type[Exception], ...] = (ConnectionError,)

    def __init__(self, delivered: Sequence[str] = (), outages: int = 0, log: list[str] | None = None) -> None:
        self.rows: list[DeliveryRow] = []
        self._before = set(delivered)
        self.outages = outages
        self.log = log if log is not None else []

    def delivered_keys(self) -> set[str]:
        return self._before | {row.idempotency_key for row in self.rows if row.status == "delivered"}

    def record(self, row: DeliveryRow) -> None:
        if self.outages:
            self.outages -= 1
            self.log.append("record failed")
            raise ConnectionError("ClickHouse unreachable")
        self.rows.append(row)
        self.log.append(f"record {row.idempotency_key}")


class ListSource:
    def __init__(self, values: Sequence[bytes | None], log: list[str] | None = None) -> None:
        self.records = [Record(TOPIC, 0, offset, b"a1", value, 0) for offset, value in enumerate(values)]
        self.committed: list[int] = []
        self.log = log if log is not None else []

    async def next(self) -> Record | None:
        return self.records.pop(0) if self.records else None

    async def commit(self, record: Record) -> None:
        self.committed.append(record.offset)
        self.log.append(f"commit {record.offset}")


@dataclass
class Run:
    store: MemoryStore
    source: ListSource
    clock: RecordingClock


def deliver(
    hook: Receiver,
    values: Sequence[bytes | None],
    *,
    secret: bytes | None = SECRET,
    store: MemoryStore | None = None,
    clock: RecordingClock | None = None,
    timeout_s: float = 5.0,
    url: str | None = None,
) -> Run:
    run = Run(store or MemoryStore(), ListSource(values), clock or RecordingClock())
    run.source.log = run.store.log

    async def main() -> None:
        deliverer = WebhookDeliverer(
            url or hook.url, run.store, secret=secret, timeout_s=timeout_s, clock=run.clock, wall=lambda: WALL
        )
        async with deliverer:
            await deliverer.run(run.source)

    asyncio.run(main())
    return run


def test_the_body_is_the_message_value_byte_for_byte_with_the_alert_headers() -> None:
    # Not orjson's own layout: spaces, a key order of its own and a non-ASCII message must all survive.
    value = (
        b'{ "version": 1,  "idempotency_key": "bank/sl/vendor-a/2026-12-02T10:00:00+00:00/fired",'
        b' "tenant": "bank", "alert_id": "a1", "transition": "fired", "value": null,'
        b' "message": "SL 71,2\xc2\xa0% < 80\xc2\xa0%" }\n'
    )
    with receiver() as hook:
        run = deliver(hook, [value])
    [request] = hook.requests
    assert request.body == value
    assert request.path == "/hooks/acd?token=not-for-logs"
    assert request.headers["Content-Type"] == "application/json"
    assert request.key == "bank/sl/vendor-a/2026-12-02T10:00:00+00:00/fired"
    assert request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("acdscope-alerts/")
    assert run.source.committed == [0]


def test_the_signature_verifies_with_an_independent_hmac() -> None:
    body = encoded(transition())
    with receiver() as hook:
        deliver(hook, [body])
    [request] = hook.requests
    header = request.headers["X-Acdscope-Signature"]
    timestamp, received, expected = expected_signature(SECRET, header, body)
    assert timestamp == int(WALL)
    assert received == expected
    assert header == f"t={int(WALL)},v1={expected}"
    # The receivers' helper: the same request passes; another body, another secret or a late one does not.
    assert verify(SECRET, header, body, now=WALL + 299)
    assert not verify(SECRET, header, body + b" ", now=WALL)
    assert not verify(b"another secret", header, body, now=WALL)
    assert not verify(SECRET, header, body, now=WALL + 301)
    assert not verify(SECRET, "v1=" + expected, body, now=WALL)
    assert verify(SECRET, f"t={int(WALL)},v1=00ff,v1={expected}", body, now=WALL)  # a secret being rotated
    assert sign(SECRET, int(WALL), body) == header


def test_without_a_secret_there_is_no_signature_header() -> None:
    with receiver() as hook:
        deliver(hook, [encoded(transition())], secret=None)
    assert "X-Acdscope-Signature" not in hook.requests[0].headers


def test_a_503_twice_then_200_arrives_on_attempt_3_after_waits_of_half_a_second_and_one() -> None:
    body = encoded(transition())
    with receiver() as hook:
        hook.script = [Answer(503), Answer(503), Answer(200)]
        run = deliver(hook, [body])
    assert [request.body for request in hook.requests] == [body, body, body]
    assert run.clock.sleeps == [0.5, 1.0]
    [row] = run.store.rows
    assert (row.status, row.http_status, row.attempts, row.error) == ("delivered", 200, 3, "")
    assert row.idempotency_key == transition()["idempotency_key"]
    assert (row.tenant, row.alert_id, row.transition) == ("bank", "a1", "fired")
    assert row.first_attempt_at.timestamp() == WALL
    assert run.source.committed == [0]


def test_backoff_doubles_to_30_s_over_5xx_408_and_429() -> None:
    statuses = [500, 502, 503, 504, 408, 429, 599, 500, 503]
    with receiver() as hook:
        hook.script = [Answer(status) for status in statuses]
        run = deliver(hook, [encoded(transition())])
    assert len(hook.requests) == len(statuses) + 1
    assert run.clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert run.store.rows[0].attempts == 10


def test_a_numeric_retry_after_is_waited_and_a_date_is_not() -> None:
    with receiver() as hook:
        hook.script = [
            Answer(429, {"Retry-After": "7"}),
            Answer(503, {"Retry-After": "Wed, 02 Dec 2026 10:40:00 GMT"}),  # not numeric: the backoff
            Answer(503, {"Retry-After": "0"}),  # sooner than the backoff: the backoff
        ]
        run = deliver(hook, [encoded(transition())])
    assert run.clock.sleeps == [7.0, 1.0, 2.0]
    assert run.store.rows[0].attempts == 4


def test_a_timeout_is_retried() -> None:
    with receiver() as hook:
        hook.script = [Answer(200, delay_s=0.6)]
        run = deliver(hook, [encoded(transition())], timeout_s=0.3)
    assert len(hook.requests) == 2
    assert run.clock.sleeps == [0.5]
    assert (run.store.rows[0].status, run.store.rows[0].attempts) == ("delivered", 2)


def test_an_unreachable_receiver_is_retried_without_end_and_nothing_is_committed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hooks/acd?token=not-for-logs"
    store, clock = MemoryStore(), RecordingClock(limit=4)
    caplog.set_level(logging.WARNING, logger="streams.edge.webhook")
    with receiver() as hook, pytest.raises(GaveUp):
        deliver(hook, [encoded(transition())], url=url, store=store, clock=clock)
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert store.rows == []
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 5  # one line per failed attempt, the fifth's wait interrupted by the test
    assert retries[0].startswith(f"waiting for http://127.0.0.1:{port} to accept alert bank/service_level/")
    assert "attempt 1 failed (ClientConnectorError" in retries[0]
    assert "retrying in 0.5 s" in retries[0]
    assert not any("token" in r.getMessage() for r in caplog.records)  # the URL's path and query stay out


def test_a_400_is_recorded_failed_after_one_attempt_and_the_next_message_still_goes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, second = transition("a1"), transition("a2")
    with receiver() as hook:
        hook.script = [Answer(400, body=b'{"error": "unknown tenant"}'), Answer(200)]
        caplog.set_level(logging.INFO, logger="streams.edge.webhook")
        run = deliver(hook, [encoded(first), encoded(second)])
    assert hook.keys() == [first["idempotency_key"], second["idempotency_key"]]
    assert run.clock.sleeps == []
    failed, delivered = run.store.rows
    assert (failed.status, failed.http_status, failed.attempts) == ("failed", 400, 1)
    assert failed.error == 'HTTP 400: {"error": "unknown tenant"}'
    assert (delivered.status, delivered.http_status, delivered.attempts) == ("delivered", 200, 1)
    assert run.source.committed == [0, 1]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [
        f"alert {first['idempotency_key']}: failed after 1 attempt(s): {failed.error}; recorded, not retried"
    ]


def test_a_redirect_is_a_failure_not_followed() -> None:
    with receiver() as hook:
        hook.script = [Answer(302, {"Location": "http://127.0.0.1:1/elsewhere"})]
        run = deliver(hook, [encoded(transition())])
    assert len(hook.requests) == 1
    assert (run.store.rows[0].status, run.store.rows[0].http_status) == ("failed", 302)


def test_the_same_idempotency_key_twice_is_posted_once_and_keys_delivered_before_not_at_all() -> None:
    again = transition("a1")
    earlier = transition("a0", interval="2026-12-02T09:45:00+00:00")
    new = transition("a2")
    store = MemoryStore(delivered=[earlier["idempotency_key"]])
    with receiver() as hook:
        run = deliver(hook, [encoded(again), encoded(earlier), encoded(again), encoded(new)], store=store)
    assert hook.keys() == [again["idempotency_key"], new["idempotency_key"]]
    assert [row.idempotency_key for row in run.store.rows] == hook.keys()
    assert run.source.committed == [0, 1, 2, 3]  # duplicates are committed too: they are done


def test_a_failed_key_published_again_is_posted_again() -> None:
    """Only deliveries are final: a refusal may have been a receiver's misconfiguration, fixed since."""
    with receiver() as hook:
        hook.script = [Answer(400), Answer(200)]
        run = deliver(hook, [encoded(transition()), encoded(transition())])
    assert len(hook.requests) == 2
    assert [(row.status, row.http_status) for row in run.store.rows] == [("failed", 400), ("delivered", 200)]
    assert run.store.rows[1].version >= run.store.rows[0].version


def test_each_delivery_is_recorded_before_its_offset_is_committed_and_a_store_outage_is_waited_out() -> None:
    first, second = transition("a1"), transition("a2")
    store = MemoryStore(outages=2)
    with receiver() as hook:
        run = deliver(hook, [encoded(first), encoded(second)], store=store)
    assert store.log == [
        "record failed",
        "record failed",
        f"record {first['idempotency_key']}",
        "commit 0",
        f"record {second['idempotency_key']}",
        "commit 1",
    ]
    assert run.clock.sleeps == [0.5, 1.0]  # the store's backoff; the receiver was POSTed once per key
    assert len(hook.requests) == 2


def test_a_value_that_is_not_an_alert_transition_is_recorded_failed_and_not_posted() -> None:
    good = transition()
    no_key = {**transition("a2"), "idempotency_key": 7}
    with receiver() as hook:
        run = deliver(hook, [b"{not json", encoded(no_key), None, encoded(good)])
    assert hook.keys() == [good["idempotency_key"]]
    bad = run.store.rows[:3]
    assert [row.idempotency_key for row in bad] == [f"invalid/{TOPIC}/0/{offset}" for offset in range(3)]
    assert [(row.status, row.http_status, row.attempts) for row in bad] == [("failed", None, 0)] * 3
    assert bad[1].error == "not an alert transition: idempotency_key is missing or not a string"
    assert run.source.committed == [0, 1, 2, 3]


def test_a_stop_mid_retry_ends_at_once_and_commits_nothing() -> None:
    with receiver() as hook:
        hook.default = Answer(503)
        store = MemoryStore()
        source = ListSource([encoded(transition())])

        async def main() -> float:
            deliverer = WebhookDeliverer(hook.url, store, secret=SECRET, timeout_s=5.0, clock=SystemClock())
            async with deliverer:
                task = asyncio.ensure_future(deliverer.run(source))
                while len(hook.requests) < 2:  # the second attempt, then a 1 s wait
                    await asyncio.sleep(0.01)
                began = time.monotonic()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                return time.monotonic() - began

        assert asyncio.run(main()) < 0.2
    assert store.rows == []
    assert source.committed == []


def test_a_url_that_could_never_be_delivered_to_is_refused_up_front() -> None:
    assert check_url("https://hooks.example.com/x") == "https://hooks.example.com/x"
    for bad in ("ftp://hooks.example.com/x", "hooks.example.com/x", "http:///x"):
        with pytest.raises(ValueError, match="must be http:// or https:// with a host"):
            check_url(bad)


def test_the_consumer_gets_the_same_kafka_security_as_every_other_client() -> None:
    assert aiokafka_security(EdgeSettings(kafka_security_protocol="PLAINTEXT").kafka_security()) == {}
    sasl = EdgeSettings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="alerts",
        kafka_sasl_password="pw",
    )
    assert aiokafka_security(sasl.kafka_security()) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": "alerts",
        "sasl_plain_password": "pw",
    }
    tls = aiokafka_security(EdgeSettings(kafka_security_protocol="SSL").kafka_security())
    assert tls["security_protocol"] == "SSL"
    assert tls["ssl_context"].verify_mode == ssl.CERT_REQUIRED
