"""Simulated events straight into Kafka: each validated through the contract, on its topic, with its key.

One idempotent producer in emission order, so every key's events keep their order on their partition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from producers.kafka_out import event_producer
from producers.simulator import wire
from producers.simulator.output import RowSink
from streams.events import TOPIC_AGENT_EVENTS
from streams.events import TOPIC_CONTACT_EVENTS
from streams.events import TOPIC_VENDOR_REPORTS
from streams.events import decode_event


class KafkaSink(RowSink):
    """`topics` renames the contract's topics (tests use a fresh set per run); keys follow the contract.

    Rows go to bytes without an event model (`wire.encode`, the bytes `encode_event` gives), and each payload is
    validated with `decode_event` before it is sent: what reaches the topics is exactly what a consumer
    accepts, and a simulator bug that broke the contract stops the run here, as `row_to_event` did."""

    def __init__(
        self,
        bootstrap: str,
        seed: int | str,
        topics: dict[str, str] | None = None,
        security: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(seed)
        renamed = {
            TOPIC_CONTACT_EVENTS: TOPIC_CONTACT_EVENTS,
            TOPIC_AGENT_EVENTS: TOPIC_AGENT_EVENTS,
            TOPIC_VENDOR_REPORTS: TOPIC_VENDOR_REPORTS,
            **(topics or {}),
        }
        self._topics = [renamed[topic] for topic in wire.TOPICS]  # by event type code
        self._producer = event_producer(bootstrap, security)
        self.sent: dict[str, int] = {}

    def write_rows(self, rows: list[tuple[int, int, tuple[Any, ...]]]) -> None:
        ids = self.ids.take(len(rows))
        encode, key, send, topics = wire.encode, wire.key, self._producer.send, self._topics
        per_code = [0] * len(topics)
        for (code, ts_ms, values), event_id in zip(rows, ids, strict=True):
            payload = encode(code, ts_ms, values, event_id)
            decode_event(payload)
            send(topics[code], key=key(code, values), value=payload)
            per_code[code] += 1
        for topic, count in zip(topics, per_code, strict=True):
            if count:
                self.sent[topic] = self.sent.get(topic, 0) + count

    def close(self) -> None:
        self.drain()
        self._producer.flush()
        self._producer.close()
