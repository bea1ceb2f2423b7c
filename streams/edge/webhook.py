"""Alert transitions from the alerts topic to an ops team's webhook: signed, retried until the receiver answers,
POSTed once per idempotency key, recorded before the topic's offset is committed.

Reads no settings and holds no ClickHouse code: the caller hands in the URL, secret and timeout, the record of
deliveries is a `DeliveryStore` (`streams.warehouse.deliveries`, or a dict in tests) and messages come from an
`AlertSource` (`KafkaAlertSource`, or a list in tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import signal
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from functools import partial
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from types import TracebackType
from typing import Any
from typing import Literal
from typing import Protocol

import aiohttp
import orjson
from yarl import URL

from streams.clock import Clock
from streams.clock import SystemClock
from streams.edge.commit import in_daemon_thread
from streams.edge.commit import retry_transient
from streams.edge.records import Record
from streams.warehouse.tables import DeliveryRow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Acdscope-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# Stripe's default: long enough for clock skew and a slow network, short enough that a captured request
# cannot be replayed later.
DEFAULT_TOLERANCE_S = 300.0
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
# A Retry-After beyond this is taken as this: an hour-long silence is already an outage someone should see.
MAX_RETRY_AFTER_S = 3600.0
# Besides 5xx: the receiver timed the request out, or asks us to slow down.
RETRY_STATUSES = frozenset({408, 429})
# A delivery retried for hours must not cost the partition: aiokafka leaves the group when the consumer has not
# fetched for `max_poll_interval_ms`, and a later commit would then be refused. A week, in milliseconds.
MAX_POLL_INTERVAL_MS = 7 * 24 * 3600 * 1000
CLOSE_TIMEOUT_S = 3.0

Status = Literal["delivered", "failed", "duplicate"]


def _user_agent() -> str:
    try:
        return f"acdscope-alerts/{package_version('acdscope')}"
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "acdscope-alerts/0+unknown"


USER_AGENT = _user_agent()


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The `X-Acdscope-Signature` value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`, as Stripe
    signs its webhooks. The timestamp is signed with the body, so a receiver can refuse a replayed request."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: bytes,
    header: str,
    body: bytes,
    *,
    now: float | None = None,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """A receiver's check: `header` signs exactly `body` with `secret`, and its timestamp is within
    `tolerance_s` of `now` (the wall clock if None). Any `v1` value may match (a secret being rotated)."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


def check_url(url: str) -> str:
    """The URL if it is http(s) with a host, else ValueError: a bad URL would otherwise be retried forever."""
    parsed = URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(
            f"the webhook URL must be http:// or https:// with a host, got {describe_url(url)!r}"
        )
    return url


def describe_url(url: str) -> str:
    """The URL for a log line: scheme, host and port. Webhook paths and queries often hold a token."""
    parsed = URL(url)
    port = f":{parsed.explicit_port}" if parsed.explicit_port else ""
    return f"{parsed.scheme}://{parsed.host or ''}{port}"


@dataclass(frozen=True)
class Transition:
    """What the deliverer needs of an alert transition; the body it POSTs is the message value as it came."""

    idempotency_key: str
    tenant: str
    alert_id: str
    transition: str


def parse(value: bytes | None) -> Transition:
    """ValueError with the reason when the value is not an alert transition (a JSON object whose
    `idempotency_key`, `tenant`, `alert_id` and `transition` are strings, the key not empty)."""
    try:
        data = orjson.loads(value or b"")
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"not a JSON object but {type(data).__name__}")
    fields = {}
    for name in ("idempotency_key", "tenant", "alert_id", "transition"):
        if not isinstance(data.get(name), str):
            raise ValueError(f"{name} is missing or not a string")
        fields[name] = data[name]
    if not fields["idempotency_key"]:
        raise ValueError("idempotency_key is empty")
    return Transition(**fields)


@dataclass(frozen=True)
class Delivery:
    """The outcome of one message: delivered (2xx), failed (refused for good, or not an alert transition) or
    duplicate (its key was delivered before: not POSTed)."""

    key: str
    status: Status
    attempts: int
    http_status: int | None
    error: str = ""


class DeliveryStore(Protocol):
    """Where deliveries are recorded. Blocking (called from a thread); `transient` are the errors of an
    unreachable store, waited out with backoff, anything else stops the deliverer."""

    transient: tuple[type[Exception], ...]

    def delivered_keys(self) -> set[str]: ...

    def record(self, row: DeliveryRow) -> None: ...


class AlertSource(Protocol):
    """Messages one at a time, in order; `next` returns None when there will be no more (a test's list)."""

    async def next(self) -> Record | None: ...

    async def commit(self, record: Record) -> None: ...


class WebhookDeliverer:
    """POSTs each alert transition to `url` until the receiver answers, then records it, then lets the offset
    be committed (`run`). A message is never dropped silently:
    - 2xx: delivered;
    - connection errors, timeouts, 5xx, 408 and 429: retried without end, waiting 0.5 s doubling to 30 s (at
      least a numeric Retry-After), one log line per failed attempt; a stop meanwhile leaves the offset
      uncommitted, so the next start tries again;
    - any other status: refused for good, recorded as failed with the status and logged as an error;
    - a value that is not an alert transition: recorded as failed (no HTTP status), logged, never POSTed.

    De-duplication: keys recorded as delivered (loaded at start, added as they are delivered) are not POSTed
    again, so a transition the worker published twice (re-derived after its restart, with the same key and
    body) reaches the receiver once, and so does one re-read after this deliverer's own restart. The only way
    to POST a key twice is a stop between the receiver's 2xx and the record in the store (a crash, or a stop
    while the store is unreachable); for that case the receiver dedupes on the `Idempotency-Key` header.

    Every attempt is signed afresh (`sign`, with the wall clock), so a delivery retried for an hour still
    passes a receiver's timestamp tolerance. Use as `async with`: it opens the HTTP session and loads the keys.
    """

    def __init__(
        self,
        url: str,
        store: DeliveryStore,
        *,
        secret: bytes | None,
        timeout_s: float,
        clock: Clock | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """`clock` paces the retries (tests record its sleeps); `wall` dates signatures and records."""
        self._url = check_url(url)
        self._target = describe_url(url)
        self._store = store
        self._secret = secret or None
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._clock = clock or SystemClock()
        self._wall = wall
        self._session: aiohttp.ClientSession | None = None
        self._delivered: set[str] = set()

    async def __aenter__(self) -> WebhookDeliverer:
        self._delivered = await self._in_store(
            self._store.delivered_keys, "ClickHouse to load the delivered keys"
        )
        log.info("alerts: %d transitions delivered before are not POSTed again", len(self._delivered))
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def run(self, source: AlertSource) -> None:
        """Deliver and commit, one message at a time, until the source has no more (or the task is cancelled)."""
        while (record := await source.next()) is not None:
            await self.handle(record)
            await source.commit(record)

    async def handle(self, record: Record) -> Delivery:
        """One message, delivered and recorded (or skipped as a duplicate); the caller commits it after."""
        first = self._wall()
        try:
            transition = parse(record.value)
        except ValueError as exc:
            # Its own key: where it was, so a second bad message never hides the first.
            key = f"invalid/{record.topic}/{record.partition}/{record.offset}"
            error = f"not an alert transition: {exc}"
            log.error("alert at %s[%d] offset %d: %s; recorded as failed, not POSTed",
                      record.topic, record.partition, record.offset, error)  # fmt: skip
            transition = Transition(key, "", (record.key or b"").decode(errors="replace"), "")
            return await self._record(transition, "failed", 0, None, error, first)
        if transition.idempotency_key in self._delivered:
            log.info("alert %s: duplicate, delivered before; not POSTed", transition.idempotency_key)
            return Delivery(transition.idempotency_key, "duplicate", 0, None)
        attempts, status, error = await self._post(transition.idempotency_key, record.value or b"")
        if error:
            log.error("alert %s: failed after %d attempt(s): %s; recorded, not retried",
                      transition.idempotency_key, attempts, error)  # fmt: skip
        delivery = await self._record(
            transition, "failed" if error else "delivered", attempts, status, error, first
        )
        if not error:
            self._delivered.add(transition.idempotency_key)
        log.info("alert %s: %s, %d attempt(s), HTTP %s", delivery.key, delivery.status, attempts, status)
        return delivery

    def _headers(self, key: str, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: key, "User-Agent": USER_AGENT}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(self._secret, int(self._wall()), body)
        return headers

    async def _post(self, key: str, body: bytes) -> tuple[int, int, str]:
        """POST until the receiver answers for good: (attempts, last HTTP status, error; empty if 2xx)."""
        assert self._session is not None, "use the deliverer as `async with`"
        backoff = FIRST_BACKOFF_S
        attempt = 0
        while True:
            attempt += 1
            wait = backoff
            try:
                async with self._session.post(
                    self._url, data=body, headers=self._headers(key, body), allow_redirects=False
                ) as response:
                    status = response.status
                    excerpt = (await response.content.read(300)).decode(errors="replace").strip()
                    retry_after = _retry_after(response.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                failure = f"{type(exc).__name__}: {exc}".rstrip(": ")
            else:
                if 200 <= status < 300:
                    return attempt, status, ""
                if status < 500 and status not in RETRY_STATUSES:
                    # A redirect too: a signed alert is not re-sent to wherever the receiver points.
                    return attempt, status, f"HTTP {status}" + (f": {excerpt}" if excerpt else "")
                failure = f"HTTP {status}"
                if retry_after is not None:
                    wait = max(wait, retry_after)
                    failure += f", Retry-After {retry_after:g} s"
            log.warning("waiting for %s to accept alert %s: attempt %d failed (%s); retrying in %.1f s",
                        self._target, key, attempt, failure, wait)  # fmt: skip
            await self._clock.sleep(wait)
            backoff = min(MAX_BACKOFF_S, backoff * 2)

    async def _record(
        self,
        transition: Transition,
        status: Literal["delivered", "failed"],
        attempts: int,
        http_status: int | None,
        error: str,
        first: float,
    ) -> Delivery:
        finished = self._wall()
        row = DeliveryRow(
            idempotency_key=transition.idempotency_key,
            tenant=transition.tenant,
            alert_id=transition.alert_id,
            transition=transition.transition,
            status=status,
            http_status=http_status,
            attempts=attempts,
            first_attempt_at=datetime.fromtimestamp(first, tz=UTC),
            finished_at=datetime.fromtimestamp(finished, tz=UTC),
            error=error,
            version=int(finished * 1_000_000),
        )
        await self._in_store(
            partial(self._store.record, row), f"ClickHouse to record alert {transition.idempotency_key}"
        )
        return Delivery(transition.idempotency_key, status, attempts, http_status, error)

    async def _in_store(self, call: Callable[[], Any], waiting_for: str) -> Any:
        async def attempt() -> Any:
            return await in_daemon_thread(call, name="alert-deliveries-io")

        return await retry_transient(attempt, self._clock, self._store.transient, waiting_for)


def _retry_after(value: str | None) -> float | None:
    """A numeric Retry-After (delay-seconds), capped; an HTTP date or anything else is ignored (None)."""
    if value is None or not value.strip().isdigit():
        return None
    return min(float(value.strip()), MAX_RETRY_AFTER_S)


class KafkaUnavailable(Exception):
    """A retriable Kafka error of a commit: waited out like an unreachable store."""


def aiokafka_security(options: Mapping[str, Any]) -> dict[str, Any]:
    """aiokafka's keyword arguments for the kafka-python ones of `EdgeSettings.kafka_security()`: the same
    protocol and SASL credentials, the certificate files as one SSL context."""
    from aiokafka.helpers import create_ssl_context

    wanted = ("security_protocol", "sasl_mechanism", "sasl_plain_username", "sasl_plain_password")
    converted = {name: options[name] for name in wanted if name in options}
    if str(options.get("security_protocol", "")).endswith("SSL"):
        converted["ssl_context"] = create_ssl_context(
            cafile=options.get("ssl_cafile"),
            certfile=options.get("ssl_certfile"),
            keyfile=options.get("ssl_keyfile"),
        )
    return converted


class KafkaAlertSource:
    """The alerts topic through an aiokafka consumer in its own group: no auto-commit (`commit` is called once
    a message is recorded), from the earliest offset when the group has none. Build it inside the event loop.

    Several deliverers in one group split the partitions; a partition moved while its message was being
    delivered is re-read by its new owner, whose keys were loaded at its start: the one case besides a crash
    where a key can be POSTed twice. One deliverer per deployment avoids it."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        group_id: str,
        security: Mapping[str, Any] | None = None,
        clock: Clock | None = None,
    ) -> None:
        from aiokafka import AIOKafkaConsumer

        self.topic = topic
        self.group_id = group_id
        self._clock = clock or SystemClock()
        self._consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=group_id,
            client_id="acdscope-alert-webhook",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
            **aiokafka_security(security or {}),
        )

    async def start(self) -> None:
        from aiokafka.errors import KafkaConnectionError

        await retry_transient(
            self._consumer.start, self._clock, (KafkaConnectionError,), f"Kafka to consume {self.topic}"
        )

    async def next(self) -> Record | None:
        message = await self._consumer.getone()
        return Record(
            message.topic, message.partition, message.offset, message.key, message.value, message.timestamp
        )

    async def commit(self, record: Record) -> None:
        from aiokafka.errors import CommitFailedError
        from aiokafka.errors import IllegalStateError
        from aiokafka.errors import KafkaError
        from aiokafka.structs import TopicPartition

        offsets = {TopicPartition(record.topic, record.partition): record.offset + 1}

        async def attempt() -> None:
            try:
                await self._consumer.commit(offsets)
            except (CommitFailedError, IllegalStateError) as exc:
                log.warning("alerts: offset %d of %s[%d] not committed, the partition moved (%s): its new owner "
                            "re-reads it", record.offset, record.topic, record.partition, exc)  # fmt: skip
            except KafkaError as exc:
                if exc.retriable:
                    raise KafkaUnavailable(f"{type(exc).__name__}: {exc}") from exc
                raise

        await retry_transient(
            attempt, self._clock, (KafkaUnavailable,), f"Kafka to commit {record.topic}[{record.partition}]"
        )

    async def stop(self) -> None:
        """Leave the group (its partitions go to another deliverer at once); commits nothing."""
        await self._consumer.stop()


async def deliver_until_stopped(deliverer: WebhookDeliverer, source: KafkaAlertSource) -> None:
    """Start the source, deliver until SIGTERM or SIGINT, then stop within a few seconds whatever it was
    doing: a POST or a backoff in progress is abandoned (its offset not committed: the next start delivers
    it), a record in flight finishes or not in its thread (if not, the next start POSTs it again)."""
    loop = asyncio.get_running_loop()

    async def work() -> None:
        await source.start()
        async with deliverer:
            await deliverer.run(source)

    task = asyncio.ensure_future(work())
    stopping: list[str] = []

    def on_signal(signum: signal.Signals) -> None:
        if not stopping:
            log.info("alerts: %s, stopping", signum.name)
        stopping.append(signum.name)
        task.cancel()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        await task
    except asyncio.CancelledError:
        if not stopping:
            raise
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(source.stop(), timeout=CLOSE_TIMEOUT_S)
    log.info("alerts: stopped")
