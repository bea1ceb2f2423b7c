"""The canonical ACD event contract: pydantic models, JSON on the wire, topic keys, schema version.

Imported by producers, the engine and the edge alike; it must import nothing else of ours.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

SCHEMA_VERSION = 1


class EventDecodeError(ValueError):
    """Raised for any payload that is not a valid canonical event; `reason` is what the dead-letter row keeps."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Event(BaseModel):
    """Fields every event carries: an id for de-duplication, UTC event time at ms precision, the schema version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    ts: AwareDatetime
    schema_version: Literal[1] = 1

    @field_validator("ts")
    @classmethod
    def _utc_millis(cls, value: datetime) -> datetime:
        # ClickHouse stores DateTime64(3, 'UTC'); truncating here makes the wire and the warehouse agree exactly.
        value = value.astimezone(UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)


class _ContactEvent(_Event):
    """A customer contact is counted once per `initial_contact_id`, however often it is overflowed or transferred."""

    contact_id: str = Field(min_length=1, max_length=128)
    initial_contact_id: str = Field(min_length=1, max_length=128)
    source: str = Field(min_length=1, max_length=64, description="in-house site or vendor id")
    call_type: str = Field(min_length=1, max_length=64)


class ContactOffered(_ContactEvent):
    """The contact arrived at a queue of `source` (at the enterprise ACD, or at the network for a vendor)."""

    type: Literal["contact.offered"] = "contact.offered"


class ContactAnswered(_ContactEvent):
    """An agent of `source` answered after waiting `wait_ms` in queue."""

    type: Literal["contact.answered"] = "contact.answered"
    agent_id: str = Field(min_length=1, max_length=128)
    wait_ms: int = Field(ge=0, le=86_400_000)


class ContactAbandoned(_ContactEvent):
    """The caller hung up after waiting `wait_ms` in the queue of `source`."""

    type: Literal["contact.abandoned"] = "contact.abandoned"
    wait_ms: int = Field(ge=0, le=86_400_000)


ContactEvent = Annotated[ContactOffered | ContactAnswered | ContactAbandoned, Field(discriminator="type")]
_contact_adapter: TypeAdapter[ContactOffered | ContactAnswered | ContactAbandoned] = TypeAdapter(ContactEvent)

MAX_PAYLOAD_BYTES = 64 * 1024


def decode_contact_event(payload: bytes) -> ContactOffered | ContactAnswered | ContactAbandoned:
    """Validate one wire payload; every failure becomes an `EventDecodeError` whose reason names the field."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise EventDecodeError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        return _contact_adapter.validate_json(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "<root>"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise EventDecodeError(f"{first['type']} at {where}: {first['msg']}{more}") from None


def encode_event(event: _Event) -> bytes:
    """JSON with `ts` as ISO-8601 UTC; the exact bytes a producer sends and a replay fixture stores."""
    return event.model_dump_json().encode()


def contact_key(event: _ContactEvent) -> bytes:
    """Contact events are keyed by `initial_contact_id`, so one customer call keeps its order on one partition."""
    return event.initial_contact_id.encode()


def new_event_id(rng_bits: int | None = None) -> uuid.UUID:
    """A UUID4; seeded simulators pass their own random bits so a run is reproducible byte for byte."""
    if rng_bits is None:
        return uuid.uuid4()
    return uuid.UUID(int=rng_bits & ((1 << 128) - 1), version=4)
