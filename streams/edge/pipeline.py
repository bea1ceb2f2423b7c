"""Turns consumed records into engine input and engine rows into sink rows; one engine per stream partition.

Synchronous and transport-free: the Faust agent, the embedded demo and the tests all call `process`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from streams.edge.records import DEAD_LETTER_TABLE, DeadLetter, Record
from streams.engine.volume import VOLUME_KEY, ContactEvent, VolumeCounter, VolumeRow
from streams.events import EventDecodeError, decode_contact_event
from streams.warehouse.sink import BatchSink, TableSpec

VOLUME_TABLE = TableSpec("contact_volume_interval", VolumeRow._fields, key=VOLUME_KEY)


class ContactVolumePipeline:
    """Keeping one engine per partition makes each row a partial aggregate that no other worker writes."""

    def __init__(self, sink: BatchSink, interval_minutes: int = 15) -> None:
        self.sink = sink
        self.interval_minutes = interval_minutes
        self.engines: dict[int, VolumeCounter] = {}
        self.accepted = 0
        self.rejected = 0

    def process(self, records: Sequence[Record]) -> list[DeadLetter]:
        """Decode, fold into the engines, buffer the changed rows; undecodable records come back as dead letters."""
        by_partition: dict[int, list[tuple[int, ContactEvent]]] = defaultdict(list)
        dead: list[DeadLetter] = []
        for record in records:
            if record.value is None:
                dead.append(DeadLetter(record, "empty message value"))
                continue
            try:
                by_partition[record.partition].append((record.offset, decode_contact_event(record.value)))
            except EventDecodeError as exc:
                dead.append(DeadLetter(record, exc.reason))
        for partition, events in by_partition.items():
            engine = self.engines.get(partition)
            if engine is None:
                engine = self.engines[partition] = VolumeCounter(partition, self.interval_minutes)
            engine.apply(events)
            self.sink.add(VOLUME_TABLE, engine.drain_rows())
            self.accepted += len(events)
        if dead:
            self.sink.add(DEAD_LETTER_TABLE, [letter.row() for letter in dead])
            self.rejected += len(dead)
        return dead
