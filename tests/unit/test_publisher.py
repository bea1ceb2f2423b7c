"""`Publisher` (every publisher's producer) against a stand-in for kafka-python's producer: it waits out a broker
that does not answer, saying so, gives up after its outage budget, bounds what is unacknowledged, and never lets
a record the broker refused pass silently."""

from __future__ import annotations

from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError
from kafka.errors import MessageSizeTooLargeError

import producers.kafka_out
from producers.kafka_out import Publisher
from producers.kafka_out import PublishError


class _Future:
    def __init__(self) -> None:
        self.is_done = False
        self.exception: BaseException | None = None

    def failed(self) -> bool:
        return self.exception is not None

    def get(self, timeout: float | None = None) -> None:
        if not self.is_done:
            raise KafkaTimeoutError("still waiting")
        if self.exception is not None:
            raise self.exception


class _Producer:
    """Records stay unacknowledged until `ack`; `metadata_timeouts` sends raise as a missing broker does."""

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.futures: list[_Future] = []
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.metadata_timeouts = 0
        self.closed = False

    def send(self, topic: str, key: bytes | None = None, value: bytes = b"") -> _Future:
        if self.metadata_timeouts:
            self.metadata_timeouts -= 1
            raise KafkaTimeoutError("Failed to update metadata after 10.0 secs.")
        self.sent.append((topic, key, value))
        self.futures.append(_Future())
        return self.futures[-1]

    def ack(self, error: BaseException | None = None) -> None:
        for future in self.futures:
            future.is_done, future.exception = True, error

    def flush(self) -> None:
        pass

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[_Producer]:
    producers_made: list[_Producer] = []

    def factory(**config: Any) -> _Producer:
        producers_made.append(_Producer(**config))
        return producers_made[-1]

    monkeypatch.setattr(producers.kafka_out, "KafkaProducer", factory)
    monkeypatch.setattr(producers.kafka_out, "_NOTICE_S", 0.0)
    return producers_made


def test_settings_keep_order_and_outlast_an_outage(made: list[_Producer]) -> None:
    Publisher("b:1", outage_s=300)
    config = made[0].config
    assert config["acks"] == "all"
    assert config["enable_idempotence"] is True
    assert config["max_in_flight_requests_per_connection"] <= 5
    assert config["delivery_timeout_ms"] == 300_000
    assert config.get("retries", float("inf")) == float("inf")


def test_a_missing_broker_is_waited_for_and_the_same_record_sent_once(made: list[_Producer]) -> None:
    notices: list[str] = []
    publisher = Publisher("b:1", notify=notices.append, outage_s=60)
    made[0].metadata_timeouts = 3
    publisher.send("t", key=b"k", value=b"v")
    assert made[0].sent == [("t", b"k", b"v")]
    assert len(notices) == 3
    assert all("broker unreachable, waiting" in notice for notice in notices)
    made[0].ack()
    publisher.flush()
    assert (publisher.sent, publisher.acknowledged) == (1, 1)


def test_it_gives_up_after_the_outage_budget(made: list[_Producer], monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(0, 10_000, 30))
    monkeypatch.setattr(producers.kafka_out.time, "monotonic", lambda: float(next(clock)))
    publisher = Publisher("b:1", notify=lambda _: None, outage_s=100)
    made[0].metadata_timeouts = 1_000
    with pytest.raises(PublishError, match="broker unreachable"):
        publisher.send("t", key=None, value=b"v")


def test_a_refused_record_stops_the_publisher(made: list[_Producer]) -> None:
    publisher = Publisher("b:1", notify=lambda _: None)
    publisher.send("t", key=b"k", value=b"v")
    made[0].ack(MessageSizeTooLargeError("too large"))
    with pytest.raises(PublishError, match="record 1 of 1"):
        publisher.flush()


def test_unacknowledged_records_are_bounded(made: list[_Producer], monkeypatch: pytest.MonkeyPatch) -> None:
    notices: list[str] = []
    publisher = Publisher("b:1", notify=notices.append, max_unacknowledged=10)
    for number in range(10):
        publisher.send("t", key=None, value=b"%d" % number)
    assert not notices
    waits = iter(range(3))

    def get(timeout: float | None = None) -> None:
        if next(waits, None) is None:  # the broker answers after three waits
            made[0].ack()
        raise KafkaTimeoutError("still waiting")

    made[0].futures[0].get = get  # type: ignore[method-assign]
    publisher.send("t", key=None, value=b"10")  # the 11th: waits until at most 5 are unacknowledged
    assert len(notices) == 3
    assert publisher.acknowledged == 6  # the oldest 6 of 11, leaving 5 in flight
