"""Which engine rows go to which ClickHouse table, with which key: the sink's side of `sql/migrations`.

Column lists come from the engine's row types, so a field added to a row and not to the DDL fails loudly.
"""

from __future__ import annotations

from streams.edge.records import DEAD_LETTER_TABLE
from streams.engine.overflow import OVERFLOW_KEY, TARGET_KEY, OverflowRow, OverflowTargetRow
from streams.engine.quality import QUALITY_KEY, QualityRow
from streams.engine.volume import VOLUME_KEY, VolumeRow
from streams.warehouse.sink import TableSpec

TABLES: dict[str, TableSpec] = {
    "contact_volume_interval": TableSpec("contact_volume_interval", VolumeRow._fields, VOLUME_KEY),
    "quality_interval": TableSpec("quality_interval", QualityRow._fields, QUALITY_KEY),
    "overflow_interval": TableSpec("overflow_interval", OverflowRow._fields, OVERFLOW_KEY),
    "overflow_target_interval": TableSpec("overflow_target_interval", OverflowTargetRow._fields, TARGET_KEY),
    "dead_letter": DEAD_LETTER_TABLE,
}
