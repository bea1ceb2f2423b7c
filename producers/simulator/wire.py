"""Simulator rows straight to the contract's wire bytes, topic and key, without building an event model first.

Publishing is limited by per-event Python work: building a pydantic model per row only to serialise it cost
about a third of what the Kafka client itself costs per record. `encode` writes the bytes
`encode_event(row_to_event(row))` writes — the models' field order, their defaults, `None` left out, times as
ISO-8601 UTC with `Z`, floats as floats — which `tests/unit/test_wire.py` checks byte for byte over simulated
days holding every event type. Validation is not skipped: `KafkaSink` checks every payload with
`decode_event`, the consumers' own check, before it sends it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from typing import Any

import orjson

from producers.simulator.emit import COLUMNS
from producers.simulator.emit import TYPE_NAMES
from producers.simulator.output import TIME_FIELDS
from streams.events import EVENT_TYPES
from streams.events import SCHEMA_VERSION
from streams.events import topic_of_type

_DAY_MS = 86_400_000
# Where a field's value comes from: a row column (index), the event id, the event time, or a constant.
_COLUMN, _EVENT_ID, _TS, _CONSTANT = range(4)


def _converter(annotation: Any, name: str) -> Callable[[Any], Any] | None:
    """What pydantic does to the value on its way to JSON, where it changes the bytes."""
    if name in TIME_FIELDS:
        return iso_millis
    members = set(typing.get_args(annotation)) if isinstance(annotation, types.UnionType) else {annotation}
    if float in members:
        return float  # an int score is a float field: 85 goes out as 85.0
    if bool in members:
        return bool
    return None


_DAYS: dict[int, str] = {}


def iso_millis(ms: int) -> str:
    """`2026-01-05T08:00:00Z`, or `…08:00:00.250000Z`: pydantic's form of a UTC datetime at ms precision."""
    day, in_day = divmod(ms, _DAY_MS)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = datetime.fromtimestamp(day * 86_400, tz=UTC).strftime("%Y-%m-%dT")
    seconds, millis = divmod(in_day, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    if millis:
        return f"{prefix}{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}000Z"
    return f"{prefix}{hour:02d}:{minute:02d}:{second:02d}Z"


class _Plan:
    """One event type: every model field in the model's order, where its value comes from, how it converts."""

    def __init__(self, code: int) -> None:
        model = EVENT_TYPES[TYPE_NAMES[code]]
        columns = COLUMNS[code]
        unknown = set(columns) - set(model.model_fields)
        if unknown:  # row_to_event would refuse them (extra="forbid"); dropping them would hide that
            raise ValueError(f"{TYPE_NAMES[code]}: columns {sorted(unknown)} are no field of the event")
        self.fields: list[tuple[str, int, Any, Callable[[Any], Any] | None]] = []
        for name, info in model.model_fields.items():
            convert = _converter(info.annotation, name)
            if name == "event_id":
                self.fields.append((name, _EVENT_ID, None, None))
            elif name == "ts":
                self.fields.append((name, _TS, None, None))
            elif name == "schema_version":
                self.fields.append((name, _CONSTANT, SCHEMA_VERSION, None))
            elif name in columns:
                self.fields.append((name, _COLUMN, columns.index(name), convert))
            elif info.is_required():
                raise ValueError(f"{TYPE_NAMES[code]}: field {name} is in no column of the simulator's rows")
            elif info.default is not None:
                value = info.default
                self.fields.append(
                    (name, _CONSTANT, list(value) if isinstance(value, tuple) else value, None)
                )
        key = "initial_contact_id" if "initial_contact_id" in columns else "agent_id"
        self.key_index = columns.index(key if key in columns else "source")
        self.topic = topic_of_type(TYPE_NAMES[code])


_PLANS = [_Plan(code) for code in range(len(TYPE_NAMES))]
TOPICS: tuple[str, ...] = tuple(plan.topic for plan in _PLANS)
KEY_COLUMNS: tuple[int, ...] = tuple(plan.key_index for plan in _PLANS)


def encode(code: int, ts_ms: int, values: tuple[Any, ...], event_id: str) -> bytes:
    """The payload of one row, as `encode_event(row_to_event(stamped_dict(code, ts_ms, values, event_id)))`."""
    data: dict[str, Any] = {}
    for name, source, where, convert in _PLANS[code].fields:
        if source == _COLUMN:
            value = values[where]
            if value is None:
                continue
            data[name] = value if convert is None else convert(value)
        elif source == _EVENT_ID:
            data[name] = event_id
        elif source == _TS:
            data[name] = iso_millis(ts_ms)
        else:
            data[name] = where
    return orjson.dumps(data)


def key(code: int, values: tuple[Any, ...]) -> bytes:
    """The contract's key: the initial contact id, the agent id, or (a vendor report) the source."""
    return str(values[KEY_COLUMNS[code]]).encode()
