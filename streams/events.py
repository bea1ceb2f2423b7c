"""The canonical ACD event contract: pydantic models, JSON on the wire, topic names and keys, schema version.

Imported by producers, the engine and the edge alike; it must import nothing else of ours and do no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC
from datetime import datetime
from typing import Annotated
from typing import Any
from typing import Literal
from typing import NamedTuple
from typing import Protocol

from pydantic import AfterValidator
from pydantic import AwareDatetime
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import TypeAdapter
from pydantic import ValidationError
from pydantic import field_validator
from pydantic import model_validator

SCHEMA_VERSION = 1

# Topics and their keys. Agent state and schedule events share a topic keyed by agent id, so an agent's
# schedule and its states are on one partition, in order, for adherence.
TOPIC_CONTACT_EVENTS = "acd.contact-events"  # key: initial_contact_id
TOPIC_AGENT_EVENTS = "acd.agent-events"  # key: agent_id (agent state and schedule events)
TOPIC_VENDOR_REPORTS = "acd.vendor-reports"  # key: source
TOPIC_DEAD_LETTER = "acd.dead-letter"  # key: the rejected message's own key

MAX_PAYLOAD_BYTES = 64 * 1024

Id = Annotated[str, Field(min_length=1, max_length=128)]
Name = Annotated[str, Field(min_length=1, max_length=64)]
# A wait, talk or hold time; its bound also bounds how far back an answer or abandon dates its arrival.
MAX_DURATION_MS = 7 * 86_400_000
Millis = Annotated[int, Field(ge=0, le=MAX_DURATION_MS)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]
# More agents than one vendor seats for one client: bounds a report's staffed time (and keeps it in UInt64).
MAX_REPORT_AGENTS = 100_000


class EventDecodeError(ValueError):
    """Raised for any payload that is not a valid canonical event; `reason` is what the dead-letter row keeps."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def utc_millis(value: datetime) -> datetime:
    """ClickHouse stores DateTime64(3, 'UTC'); truncating here makes the wire and the warehouse agree exactly."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    if value.microsecond % 1000:
        value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def _iso_utc(value: Any) -> Any:
    """The hot path of every decode: an ISO-8601 string with an offset parsed by the C parser straight to UTC
    milliseconds (pydantic's own parse leaves a timezone object whose conversion costs more than the parse).
    Anything else is left to pydantic, which reports what is wrong with it."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        if parsed.tzinfo is not None:
            return utc_millis(parsed)
    return value


# Schedule and report times: aware, then UTC at ms precision like `ts` (they are compared with it).
UtcMillis = Annotated[AwareDatetime, AfterValidator(utc_millis)]


def _total_covers_this_queue(event: _Waited) -> _Waited:
    if event.total_wait_ms is not None and event.total_wait_ms < event.wait_ms:
        raise ValueError("total_wait_ms is shorter than wait_ms")
    return event


class _Waited(Protocol):
    wait_ms: int
    total_wait_ms: int | None


class _Event(BaseModel):
    """Fields every event carries: an id for de-duplication, UTC event time at ms precision, the schema version.

    `tenant` names the contact-center operation the event belongs to (one enterprise, or one simulated
    scenario), so several setups can share topics and tables and still be compared side by side.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    ts: AwareDatetime
    schema_version: Literal[1] = 1
    tenant: Name = "default"

    @field_validator("ts", mode="before")
    @classmethod
    def _parse_ts(cls, value: Any) -> Any:
        return _iso_utc(value)

    @field_validator("ts")
    @classmethod
    def _utc_millis(cls, value: datetime) -> datetime:
        return utc_millis(value)


# --- contact events (key: initial_contact_id) ------------------------------------------------------------


class _ContactEvent(_Event):
    """One leg of a customer contact; a customer call is counted once per `initial_contact_id`.

    `source` is where the event happened: the in-house site or the vendor whose queue or agent it concerns.
    """

    contact_id: Id
    initial_contact_id: Id
    source: Name
    call_type: Name


class ContactOffered(_ContactEvent):
    """The contact arrived: at the enterprise ACD, or (network-delivered) at a vendor straight from the network."""

    type: Literal["contact.offered"] = "contact.offered"
    entry: Literal["enterprise_acd", "network"] = "enterprise_acd"
    caller_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")


class ContactQueued(_ContactEvent):
    """The leg entered `queue`. `transferred_in`: an agent of the same source put it there (an internal transfer,
    Amazon Connect's `InitiationMethod` TRANSFER): the same customer call again, counted as a transfer-in and
    never as a new offered call, so it neither inflates offered nor, since it cannot abandon, service level."""

    type: Literal["contact.queued"] = "contact.queued"
    queue: Name
    priority: int = Field(default=0, ge=0, le=9)
    transferred_in: bool = False


class ContactOverflowed(_ContactEvent):
    """The contact left `source`'s queue for `to_source` after `wait_ms` there; `trigger` says why."""

    type: Literal["contact.overflowed"] = "contact.overflowed"
    to_source: Name
    trigger: Literal["timeout", "split", "call_type"]
    wait_ms: Millis


class ContactRedirected(_ContactEvent):
    """Enterprise-routed hand-off to a vendor's ACD and its outcome, the last thing the enterprise sees of it."""

    type: Literal["contact.redirected"] = "contact.redirected"
    to_source: Name
    handoff: Literal["accepted", "failed", "returned"]


class ContactAnswered(_ContactEvent):
    """`wait_ms` is the wait in this queue; `total_wait_ms` runs from the first enqueue of the initial contact."""

    type: Literal["contact.answered"] = "contact.answered"
    agent_id: Id
    wait_ms: Millis
    total_wait_ms: Millis | None = None

    _total_covers_this_queue = model_validator(mode="after")(_total_covers_this_queue)


class ContactAbandoned(_ContactEvent):
    type: Literal["contact.abandoned"] = "contact.abandoned"
    wait_ms: Millis
    total_wait_ms: Millis | None = None

    _total_covers_this_queue = model_validator(mode="after")(_total_covers_this_queue)


class ContactTransferred(_ContactEvent):
    """An agent passed the contact on: `internal` to another queue of the enterprise, `external` out of it."""

    type: Literal["contact.transferred"] = "contact.transferred"
    agent_id: Id
    kind: Literal["internal", "external"]
    to_queue: Name | None = None


class ContactHeld(_ContactEvent):
    type: Literal["contact.held"] = "contact.held"
    agent_id: Id


class ContactRetrieved(_ContactEvent):
    type: Literal["contact.retrieved"] = "contact.retrieved"
    agent_id: Id
    hold_ms: Millis


class ContactEnded(_ContactEvent):
    """The conversation ended; talk and hold totals of this leg, so AHT needs no pairing of events."""

    type: Literal["contact.ended"] = "contact.ended"
    agent_id: Id
    talk_ms: Millis
    hold_ms: Millis = 0


class ContactWrapupEnded(_ContactEvent):
    type: Literal["contact.wrapup_ended"] = "contact.wrapup_ended"
    agent_id: Id
    acw_ms: Millis


class ContactQuality(_ContactEvent):
    """A QA evaluation (0–100) and/or a customer satisfaction score (1–5) for a handled contact."""

    type: Literal["contact.quality"] = "contact.quality"
    agent_id: Id | None = None
    qa_score: float | None = Field(default=None, ge=0, le=100)
    csat: int | None = Field(default=None, ge=1, le=5)

    @model_validator(mode="after")
    def _some_score(self) -> ContactQuality:
        if self.qa_score is None and self.csat is None:
            raise ValueError("a quality event needs qa_score or csat")
        return self


# --- agent state and schedule events (key: agent_id) -------------------------------------------------------


class _AgentEvent(_Event):
    """`source` is the agent's in-house site or vendor; `team` groups agents for adherence roll-ups."""

    agent_id: Id
    source: Name
    team: Name


class AgentLogin(_AgentEvent):
    type: Literal["agent.login"] = "agent.login"
    skills: tuple[Name, ...] = ()


class AgentReady(_AgentEvent):
    type: Literal["agent.ready"] = "agent.ready"


class AgentNotReady(_AgentEvent):
    type: Literal["agent.not_ready"] = "agent.not_ready"
    reason: Name


class AgentOnContact(_AgentEvent):
    type: Literal["agent.on_contact"] = "agent.on_contact"
    contact_id: Id


class AgentAfterContactWork(_AgentEvent):
    type: Literal["agent.acw"] = "agent.acw"
    contact_id: Id


class AgentLogout(_AgentEvent):
    type: Literal["agent.logout"] = "agent.logout"


Activity = Literal["on_queue", "break", "lunch", "meeting", "training"]


class ScheduleActivity(_AgentEvent):
    """One published schedule activity; a re-publication with a higher `schedule_version` replaces it."""

    type: Literal["schedule.activity"] = "schedule.activity"
    activity: Activity
    start: UtcMillis
    end: UtcMillis
    schedule_version: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> ScheduleActivity:
        if self.end <= self.start:
            raise ValueError("schedule activity ends before it starts")
        return self


# --- vendor interval reports (key: source) ----------------------------------------------------------------


class VendorIntervalReport(_Event):
    """What a vendor reports of its own queue per interval: the only vendor data in a network-delivered setup."""

    type: Literal["vendor.interval_report"] = "vendor.interval_report"
    source: Name
    call_type: Name
    interval_start: UtcMillis
    interval_minutes: int = Field(ge=1, le=1440)
    offered: Count
    answered: Count
    abandoned: Count
    # Answered within the vendor's own service-level threshold, `target_s` seconds: the wire names of schema
    # version 1 (a threshold everywhere else in the project), kept so recorded reports replay unchanged.
    answered_within_target: Count
    target_s: int = Field(ge=1, le=3600)
    handle_ms: int = Field(ge=0)
    # What many vendors add to the counts (None = not in this report, so NULL downstream, never 0): the legs
    # their agents handled (answered calls plus legs transferred within the vendor, whose work `handle_ms`
    # includes), the legs transferred, and the QA evaluations and survey responses of the interval's calls.
    handled: Count | None = None
    transferred: Count | None = None
    qa_count: Count | None = None
    qa_sum: float | None = Field(default=None, ge=0)
    csat_count: Count | None = None
    csat_sum: Count | None = None
    # The agents' time on queue in the interval (available, talking, holding, wrap-up) as the vendor's own WFM
    # reports it (its staffed time): the only view of a hidden vendor's capacity. Where the same agents take
    # several call types, the vendor divides their time among its reports of the interval, so that these add
    # up to its agents' time on queue (each agent's time counted once). None = not in this report: NULL, never 0.
    staffed_ms: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> VendorIntervalReport:
        if self.answered + self.abandoned > self.offered:
            raise ValueError("answered + abandoned exceeds offered")
        if self.answered_within_target > self.answered:
            raise ValueError("answered_within_target exceeds answered")
        if self.handled is not None and self.handled < self.answered:
            raise ValueError("handled is fewer than answered")
        if (self.qa_count is None) != (self.qa_sum is None):
            raise ValueError("qa_count and qa_sum come together")
        if self.qa_count is not None and self.qa_sum is not None and self.qa_sum > 100 * self.qa_count:
            raise ValueError("qa_sum exceeds 100 per evaluation")
        if (self.csat_count is None) != (self.csat_sum is None):
            raise ValueError("csat_count and csat_sum come together")
        if (
            self.csat_count is not None
            and self.csat_sum is not None
            and not self.csat_count <= self.csat_sum <= 5 * self.csat_count
        ):
            raise ValueError("csat_sum is outside 1-5 per response")
        # Not checked against handle_ms: a report's handle time is that of the calls that arrived in the interval,
        # work that runs on after its end included, while its staffed time is the time on queue within it, so a
        # busy interval's handle time can exceed it (over a day, handling stays within time on queue).
        most_ms = self.interval_minutes * 60_000 * MAX_REPORT_AGENTS
        if self.staffed_ms is not None and self.staffed_ms > most_ms:
            raise ValueError(f"staffed_ms exceeds {MAX_REPORT_AGENTS:,} agents on queue the whole interval")
        return self


class ForecastRow(NamedTuple):
    """A forecast for one source x call type x interval, as a WFM system exports it: not an event, but input of
    the same standing, made by the simulator (its intended demand) or read from a tenant's CSV by the warehouse."""

    tenant: str
    source: str
    call_type: str
    interval_start: datetime
    interval_minutes: int
    calls: float
    aht_s: float


ContactEvent = (
    ContactOffered
    | ContactQueued
    | ContactOverflowed
    | ContactRedirected
    | ContactAnswered
    | ContactAbandoned
    | ContactTransferred
    | ContactHeld
    | ContactRetrieved
    | ContactEnded
    | ContactWrapupEnded
    | ContactQuality
)
AgentEvent = (
    AgentLogin
    | AgentReady
    | AgentNotReady
    | AgentOnContact
    | AgentAfterContactWork
    | AgentLogout
    | ScheduleActivity
)
Event = ContactEvent | AgentEvent | VendorIntervalReport

EVENT_TYPES: dict[str, type[BaseModel]] = {
    model.model_fields["type"].default: model
    for model in (
        ContactOffered,
        ContactQueued,
        ContactOverflowed,
        ContactRedirected,
        ContactAnswered,
        ContactAbandoned,
        ContactTransferred,
        ContactHeld,
        ContactRetrieved,
        ContactEnded,
        ContactWrapupEnded,
        ContactQuality,
        AgentLogin,
        AgentReady,
        AgentNotReady,
        AgentOnContact,
        AgentAfterContactWork,
        AgentLogout,
        ScheduleActivity,
        VendorIntervalReport,
    )
}

_event_adapter: TypeAdapter[Event] = TypeAdapter(Annotated[Event, Field(discriminator="type")])
_contact_adapter: TypeAdapter[ContactEvent] = TypeAdapter(
    Annotated[ContactEvent, Field(discriminator="type")]
)


def _reason(exc: ValidationError) -> str:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "<root>"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{first['type']} at {where}: {first['msg']}{more}"


def decode_event(payload: bytes) -> Event:
    """Validate one wire payload of any type; every failure is an `EventDecodeError` whose reason names the field."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise EventDecodeError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        return _event_adapter.validate_json(payload)
    except ValidationError as exc:
        raise EventDecodeError(_reason(exc)) from None


def decode_contact_event(payload: bytes) -> ContactEvent:
    """Like `decode_event`, for the contact topic: an agent event there is misrouted and rejected."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise EventDecodeError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        return _contact_adapter.validate_json(payload)
    except ValidationError as exc:
        raise EventDecodeError(_reason(exc)) from None


def event_from_dict(data: dict[str, Any]) -> Event:
    """Build a validated event from plain values (a replayed row, a simulator record); `None` fields are dropped."""
    try:
        return _event_adapter.validate_python({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise EventDecodeError(_reason(exc)) from None


def encode_event(event: BaseModel) -> bytes:
    """Compact JSON, `ts` as ISO-8601 UTC: the exact bytes a producer sends and a JSON-lines fixture stores."""
    return event.model_dump_json(exclude_none=True).encode()


def contact_key(event: _ContactEvent) -> bytes:
    """Contact events are keyed by `initial_contact_id`, so one customer call keeps its order on one partition."""
    return event.initial_contact_id.encode()


def event_key(event: Event) -> bytes:
    """The Kafka key the contract prescribes for each family of events."""
    if isinstance(event, _ContactEvent):
        return event.initial_contact_id.encode()
    if isinstance(event, _AgentEvent):
        return event.agent_id.encode()
    return event.source.encode()


def event_topic(event: Event) -> str:
    if isinstance(event, _ContactEvent):
        return TOPIC_CONTACT_EVENTS
    if isinstance(event, _AgentEvent):
        return TOPIC_AGENT_EVENTS
    return TOPIC_VENDOR_REPORTS


def topic_of_type(event_type: str) -> str:
    """The topic for an event type string, for producers that write rows without building models."""
    if event_type.startswith("contact."):
        return TOPIC_CONTACT_EVENTS
    if event_type.startswith(("agent.", "schedule.")):
        return TOPIC_AGENT_EVENTS
    if event_type.startswith("vendor."):
        return TOPIC_VENDOR_REPORTS
    raise ValueError(f"unknown event type {event_type!r}")


def new_event_id(rng_bits: int | None = None) -> uuid.UUID:
    """A UUID4; seeded simulators pass their own random bits so a run is reproducible byte for byte."""
    if rng_bits is None:
        return uuid.uuid4()
    return uuid.UUID(int=rng_bits & ((1 << 128) - 1), version=4)


def hash_caller(number: str, key: bytes) -> str:
    """Keyed hash (HMAC-SHA256, 128 bits) of a caller number: repeat contacts stay linkable, numbers never appear.

    The key comes from configuration; without it the same number cannot be recomputed from the hash by
    enumerating the (small) space of phone numbers.
    """
    return CallerHasher(key)(number)


class CallerHasher:
    """`hash_caller` with the key schedule done once; producers hash every caller with one of these."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("caller hashing needs a non-empty key")
        self._base = hmac.new(key, digestmod=hashlib.sha256)

    def __call__(self, number: str) -> str:
        digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
        return self.normalized(digits)

    def normalized(self, digits: str) -> str:
        """For a number already reduced to digits and `+` (E.164), as simulators and adapters produce it."""
        h = self._base.copy()
        h.update(digits.encode())
        return h.hexdigest()[:32]
