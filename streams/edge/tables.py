"""Which engine rows go to which ClickHouse table, with which key: the sink's side of `sql/migrations`.

Column lists come from the engine's row types, so a field added to a row and not to the DDL fails loudly.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from streams.edge.records import DEAD_LETTER_TABLE
from streams.engine.adherence import ADHERENCE_KEY, AdherenceRow
from streams.engine.overflow import OVERFLOW_KEY, TARGET_KEY, OverflowRow, OverflowTargetRow
from streams.engine.quality import QUALITY_KEY, QualityRow
from streams.engine.repeats import REPEAT_KEY, RepeatRow
from streams.engine.volume import VOLUME_KEY, VolumeRow
from streams.warehouse.sink import TableSpec


class LiveRow(NamedTuple):
    """One line of the real-time adherence board; `version` is the processing time it was computed at."""

    tenant: str
    agent_id: str
    source: str
    team: str
    is_out: int
    since: datetime | None
    duration_ms: int
    severe: int
    activity: str
    state: str
    impact: str
    as_of: datetime
    version: int


RAW_EVENTS = TableSpec(
    "acd_events",
    ("ts", "tenant", "type", "event_id", "topic", "stream_partition", "stream_offset", "payload"),
    key=("topic", "stream_partition", "stream_offset"),
)

TABLES: dict[str, TableSpec] = {
    "acd_events": RAW_EVENTS,
    "adherence_interval": TableSpec("adherence_interval", AdherenceRow._fields, ADHERENCE_KEY),
    "adherence_live": TableSpec("adherence_live", LiveRow._fields, ("tenant", "agent_id")),
    "contact_volume_interval": TableSpec("contact_volume_interval", VolumeRow._fields, VOLUME_KEY),
    "quality_interval": TableSpec("quality_interval", QualityRow._fields, QUALITY_KEY),
    "overflow_interval": TableSpec("overflow_interval", OverflowRow._fields, OVERFLOW_KEY),
    "overflow_target_interval": TableSpec("overflow_target_interval", OverflowTargetRow._fields, TARGET_KEY),
    "repeat_interval": TableSpec("repeat_interval", RepeatRow._fields, REPEAT_KEY),
    "dead_letter": DEAD_LETTER_TABLE,
}
