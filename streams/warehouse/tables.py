"""Every ClickHouse table the project writes, with its columns and the key a newer row replaces an older one
by: the sink's side of `sql/migrations` (the DDL), in one place.

Column lists come from the row types, so a field added to a row and not to the DDL fails loudly at insert.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any
from typing import NamedTuple

from streams.engine.adherence import ADHERENCE_KEY
from streams.engine.adherence import AdherenceRow
from streams.engine.alerts import ALERT_KEY
from streams.engine.alerts import AlertRow
from streams.engine.overflow import OVERFLOW_KEY
from streams.engine.overflow import TARGET_KEY
from streams.engine.overflow import OverflowRow
from streams.engine.overflow import OverflowTargetRow
from streams.engine.quality import QUALITY_KEY
from streams.engine.quality import QualityRow
from streams.engine.repeats import REPEAT_KEY
from streams.engine.repeats import RepeatRow
from streams.engine.volume import VOLUME_KEY
from streams.engine.volume import VolumeRow


@dataclass(frozen=True)
class TableSpec:
    """Where rows go; `key` names the columns of the grain, so a newer row in the buffer replaces an older one."""

    table: str
    columns: tuple[str, ...]
    key: tuple[str, ...] | None = None
    # Written after every other table of a flush (checkpoints must never get ahead of the rows).
    last: bool = False

    @property
    def key_positions(self) -> tuple[int, ...]:
        return tuple(self.columns.index(column) for column in self.key or ())

    def key_of(self, row: Sequence[Any]) -> tuple[Any, ...] | None:
        if self.key is None:
            return None
        return key_getter(self)(row)


@lru_cache(maxsize=256)
def key_getter(spec: TableSpec) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """One C-level getter per table: the key is taken for every buffered row, so it is on the hot path."""
    positions = spec.key_positions
    if len(positions) == 1:
        single = itemgetter(positions[0])
        return lambda row: (single(row),)
    return itemgetter(*positions)


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


class DeliveryRow(NamedTuple):
    """The outcome of one alert transition's webhook delivery (`streams.edge.webhook`), keyed by its
    idempotency key; `version` is when it was decided (microseconds), so a later outcome of the same key wins."""

    idempotency_key: str
    tenant: str
    alert_id: str
    transition: str
    status: str  # delivered | failed
    http_status: int | None  # the receiver's last answer; None: there was none (not an alert transition)
    attempts: int
    first_attempt_at: datetime
    finished_at: datetime
    error: str  # why it failed, for an operator; empty when delivered
    version: int


class QueueLiveRow(NamedTuple):
    """One partition's queue of a source now (`streams.engine.queue`); `version` is the time it was computed at."""

    tenant: str
    source: str
    stream_partition: int
    waiting: int
    oldest_queued_at: datetime | None
    as_of: datetime
    version: int


class CheckpointRow(NamedTuple):
    app_id: str
    topic: str
    stream_partition: int
    last_offset: int
    snapshot: str
    version: int


RAW_EVENTS = TableSpec(
    "acd_events",
    ("ts", "tenant", "type", "event_id", "topic", "stream_partition", "stream_offset", "payload"),
    key=("topic", "stream_partition", "stream_offset"),
)
DEAD_LETTER = TableSpec(
    "dead_letter",
    ("received_at", "topic", "stream_partition", "stream_offset", "reason", "payload"),
    key=("topic", "stream_partition", "stream_offset"),
)
CHECKPOINT = TableSpec(
    "engine_checkpoint", CheckpointRow._fields, key=("app_id", "topic", "stream_partition"), last=True
)
# Loaded from the tenants' configuration by `acdscope terms`, not by the worker.
SOURCE_TERMS = TableSpec(
    "source_terms",
    ("tenant", "source", "kind", "setup", "engagement", "cost_model", "rate", "sla_threshold_s", "sla_target",
     "sla_credit", "chronic_after", "chronic_after_days", "contracted_share", "contracted_seats", "forecast_tolerance",
     "billing_period", "penalty_cap", "bonus_cap", "earn_back_after", "chronic_after_periods", "anchored_baseline",
     "anchored_band", "anchored_base_fee", "anchored_above_rate", "anchored_below_rate", "version"),
)  # fmt: skip
CONTRACT_KPIS = TableSpec(
    "contract_kpis",
    ("tenant", "source", "kpi", "target", "lower_is_better", "penalty_bounds", "penalty_shares", "bonus_bounds",
     "bonus_shares", "version"),
)  # fmt: skip
# Loaded from a CSV by `acdscope forecast`, or derived from a scenario (`producers.simulator.forecast`);
# loaded_at is the column's default (the newest load of a key wins).
FORECAST = TableSpec(
    "forecast_interval",
    ("tenant", "source", "call_type", "interval_start", "interval_minutes", "calls", "aht_s"),
    key=("tenant", "source", "call_type", "interval_start"),
)
# Written by `acdscope alerts-webhook`, one row per delivered or refused alert transition.
# Written by `acdscope recommend`: the counters of every staffing plan it weighs, priced by `recommend_figures`.
RECOMMEND_RUNS = TableSpec(
    "recommend_runs",
    ("run", "candidate", "replicate", "source", "kind", "cost_model", "rate", "contracted_seats", "answered",
     "handle_ms", "scheduled_ms", "on_queue_ms", "open_ms", "customers", "customers_answered", "customers_within",
     "customers_abandoned"),
)  # fmt: skip
ALERT_DELIVERIES = TableSpec("alert_deliveries", DeliveryRow._fields, key=("idempotency_key",))
CALL_TYPES = TableSpec("call_type_dim", ("tenant", "call_type", "label", "version"))
# Which migrations were applied (written by `streams.warehouse.migrations`, which also creates it).
SCHEMA_MIGRATIONS = TableSpec("schema_migrations", ("version", "name", "checksum"))

# The engines' rows by table.
TABLES: dict[str, TableSpec] = {
    "acd_events": RAW_EVENTS,
    "adherence_interval": TableSpec("adherence_interval", AdherenceRow._fields, ADHERENCE_KEY),
    "adherence_live": TableSpec("adherence_live", LiveRow._fields, ("tenant", "agent_id")),
    "queue_live": TableSpec("queue_live", QueueLiveRow._fields, ("tenant", "source", "stream_partition")),
    "contact_volume_interval": TableSpec("contact_volume_interval", VolumeRow._fields, VOLUME_KEY),
    "quality_interval": TableSpec("quality_interval", QualityRow._fields, QUALITY_KEY),
    "overflow_interval": TableSpec("overflow_interval", OverflowRow._fields, OVERFLOW_KEY),
    "overflow_target_interval": TableSpec("overflow_target_interval", OverflowTargetRow._fields, TARGET_KEY),
    "repeat_interval": TableSpec("repeat_interval", RepeatRow._fields, REPEAT_KEY),
    "dead_letter": DEAD_LETTER,
    "alerts": TableSpec("alerts", AlertRow._fields, ALERT_KEY),
}
