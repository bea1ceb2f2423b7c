"""Simulated events straight into Kafka: each validated through the contract, on its topic, with its key.

One idempotent producer in emission order, so every key's events keep their order on their partition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from producers.kafka_out import event_producer
from producers.simulator.output import RowSink
from producers.simulator.output import row_to_event
from producers.simulator.output import stamped_dict
from streams.events import TOPIC_AGENT_EVENTS
from streams.events import TOPIC_CONTACT_EVENTS
from streams.events import TOPIC_VENDOR_REPORTS
from streams.events import encode_event
from streams.events import event_key
from streams.events import event_topic


class KafkaSink(RowSink):
    """`topics` renames the contract's topics (tests use a fresh set per run); keys follow the contract."""

    def __init__(
        self,
        bootstrap: str,
        seed: int | str,
        topics: dict[str, str] | None = None,
        security: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(seed)
        self._topics = {
            TOPIC_CONTACT_EVENTS: TOPIC_CONTACT_EVENTS,
            TOPIC_AGENT_EVENTS: TOPIC_AGENT_EVENTS,
            TOPIC_VENDOR_REPORTS: TOPIC_VENDOR_REPORTS,
            **(topics or {}),
        }
        self._producer = event_producer(bootstrap, security)
        self.sent: dict[str, int] = {}

    def write_rows(self, rows: list[tuple[int, int, tuple[Any, ...]]]) -> None:
        ids = self.ids.take(len(rows))
        for (code, ts_ms, values), event_id in zip(rows, ids, strict=True):
            event = row_to_event(stamped_dict(code, ts_ms, values, event_id))
            topic = self._topics[event_topic(event)]
            self._producer.send(topic, key=event_key(event), value=encode_event(event))
            self.sent[topic] = self.sent.get(topic, 0) + 1

    def close(self) -> None:
        self.drain()
        self._producer.flush()
        self._producer.close()
