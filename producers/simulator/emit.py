"""The positional layout of the rows the simulator emits: one code and one column tuple per event type.

The core emits plain tuples (no dicts, no models) because per-event Python work is what limits a simulator;
the sinks turn them into Parquet columns, validated events or Kafka messages. Layout only, no logic.
"""

from __future__ import annotations

from typing import Any
from typing import Protocol

_CONTACT = ("tenant", "source", "contact_id", "initial_contact_id", "call_type")
_AGENT = ("tenant", "agent_id", "source", "team")

LAYOUT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("contact.offered", (*_CONTACT, "entry", "caller_hash")),
    ("contact.queued", (*_CONTACT, "queue", "transferred_in")),
    ("contact.overflowed", (*_CONTACT, "to_source", "trigger", "wait_ms")),
    ("contact.redirected", (*_CONTACT, "to_source", "handoff")),
    ("contact.answered", (*_CONTACT, "agent_id", "wait_ms", "total_wait_ms")),
    ("contact.abandoned", (*_CONTACT, "wait_ms", "total_wait_ms")),
    ("contact.transferred", (*_CONTACT, "agent_id", "kind", "to_queue")),
    ("contact.held", (*_CONTACT, "agent_id")),
    ("contact.retrieved", (*_CONTACT, "agent_id", "hold_ms")),
    ("contact.ended", (*_CONTACT, "agent_id", "talk_ms", "hold_ms")),
    ("contact.wrapup_ended", (*_CONTACT, "agent_id", "acw_ms")),
    ("contact.quality", (*_CONTACT, "agent_id", "qa_score", "csat")),
    ("agent.login", (*_AGENT, "skills")),
    ("agent.ready", _AGENT),
    ("agent.not_ready", (*_AGENT, "reason")),
    ("agent.on_contact", (*_AGENT, "contact_id")),
    ("agent.acw", (*_AGENT, "contact_id")),
    ("agent.logout", _AGENT),
    ("schedule.activity", (*_AGENT, "activity", "start", "end", "schedule_version")),
    (
        "vendor.interval_report",
        (
            "tenant",
            "source",
            "call_type",
            "interval_start",
            "interval_minutes",
            "offered",
            "answered",
            "abandoned",
            "answered_within_target",
            "target_s",
            "handle_ms",
            "handled",
            "transferred",
            "qa_count",
            "qa_sum",
            "csat_count",
            "csat_sum",
            "staffed_ms",
        ),
    ),
)
TYPE_NAMES: tuple[str, ...] = tuple(name for name, _ in LAYOUT)
COLUMNS: tuple[tuple[str, ...], ...] = tuple(columns for _, columns in LAYOUT)
CODE: dict[str, int] = {name: code for code, name in enumerate(TYPE_NAMES)}

(
    OFFERED,
    QUEUED,
    OVERFLOWED,
    REDIRECTED,
    ANSWERED,
    ABANDONED,
    TRANSFERRED,
    HELD,
    RETRIEVED,
    ENDED,
    WRAPUP_ENDED,
    QUALITY,
    LOGIN,
    READY,
    NOT_READY,
    ON_CONTACT,
    ACW,
    LOGOUT,
    SCHEDULE,
    VENDOR_REPORT,
) = range(len(LAYOUT))


class EventSink(Protocol):
    """The core appends `(ts_ms, values)` to `by_code[code]` and `code` to `codes`, in non-decreasing `ts_ms`
    order (`values` follow `COLUMNS[code]`), and calls `drain()` at the end of every simulated day and run."""

    by_code: list[list[tuple[int, tuple[Any, ...]]]]
    codes: list[int]

    def drain(self) -> None: ...


def as_dict(code: int, ts_ms: int, values: tuple[Any, ...]) -> dict[str, Any]:
    """A row with its field names (slow path for tests, JSON lines and Kafka)."""
    row = dict(zip(COLUMNS[code], values, strict=True))
    row["type"] = TYPE_NAMES[code]
    row["ts"] = ts_ms
    return row
