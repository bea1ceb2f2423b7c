"""The one interval bookkeeping of every engine: a stream partition's `Timeline` (per-tenant event time and
watermark, the row-version rule) and the `IntervalTable`s and `ContactStore`s whose state follows it.

Engines only count into tables and read rows out of them; when an interval is final, when its state is dropped
and when a contact's state is swept is decided here, once. Pure: time comes from the events and from what the
edge hands in (`Timeline.idle`); nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import fields
from operator import attrgetter
from typing import Any
from typing import Generic
from typing import NamedTuple
from typing import Protocol
from typing import Self
from typing import TypeVar

from streams.engine.config import EngineConfig
from streams.engine.timebase import NEVER
from streams.engine.timebase import interval_start as interval_start  # re-exported: the grid in datetimes

K = TypeVar("K", bound=tuple[Any, ...])
V = TypeVar("V")


class Counts:
    """Base of an engine's named counters (a `@dataclass(slots=True)` with a default for every field).

    A checkpoint holds them as a list in field order, so a counter added later (declared last) restores from an
    older checkpoint as its default."""

    __slots__ = ()

    def dump(self) -> list[Any]:
        return list(_field_getter(type(self))(self))

    @classmethod
    def load(cls, values: list[Any]) -> Self:
        return cls(*values)


_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _field_getter(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    getter = _GETTERS.get(cls)
    if getter is None:
        names = [f.name for f in fields(cls)]
        one = attrgetter(names[0])
        getter = _GETTERS[cls] = attrgetter(*names) if len(names) > 1 else lambda value: (one(value),)
    return getter


class Move(NamedTuple):
    """One advance of a tenant's watermark (it may stand still): what a table needs to finalise and expire."""

    tenant: str
    previous: int
    watermark: int
    # The oldest event time the partition still admits for the tenant (its correction horizon).
    admissible_from: int

    def crossed(self, width_ms: int, delay_ms: int = 0) -> bool:
        """Whether an interval boundary (shifted by `delay_ms`) lies in (previous, watermark]: only then can an
        interval become final or expire, so between crossings an advance costs nothing whatever the state."""
        return (self.watermark - delay_ms) // width_ms != (self.previous - delay_ms) // width_ms


class IntervalTable(Generic[K, V]):
    """An engine's state per key, a key being a tuple with the tenant first and an interval start (ms) at
    `start_at`.

    - dirty: changed since the last drain, so its row goes out again (cumulative, never a delta);
    - final: the tenant's watermark has passed the interval's end plus `delay_ms` (a repeat window stays open a
      window longer); a late event still corrects a final row, with a newer version. With `delay_ms` None the
      table's rows carry no final flag and nothing is flagged;
    - dropped: once no admissible input can reach the interval any more, i.e. its end is more than `reach_ms`
      before the tenant's correction horizon (an answer dates its arrival back by its wait), and it has been
      drained. Inputs older than the horizon are refused before they get here.
    """

    __slots__ = (
        "_delay_ms", "_key_length", "_new", "_reach_ms", "_start_at", "_width_ms", "dirty", "final", "fresh", "rows",
    )  # fmt: skip

    def __init__(
        self,
        new: Callable[[], V],
        width_ms: int,
        key_length: int = 4,
        start_at: int = 3,
        delay_ms: int | None = 0,
        reach_ms: int = 0,
    ) -> None:
        self._new = new
        self._width_ms = width_ms
        self._key_length = key_length
        self._start_at = start_at
        self._delay_ms = delay_ms
        self._reach_ms = reach_ms
        self.rows: dict[K, V] = {}
        self.dirty: set[K] = set()
        self.final: set[K] = set()
        # Keys created since their tenant's last advance: looked at even when the watermark stands still, since a
        # late event's interval may be behind it already (a checkpoint taken before the next move would forget it).
        self.fresh: set[K] = set()

    def at(self, key: K) -> V:
        """The key's state, created on first use; the key is dirty until the next drain."""
        value = self.rows.get(key)
        if value is None:
            value = self.rows[key] = self._new()
            self.fresh.add(key)
        self.dirty.add(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Replace the key's state (a re-sent report is a total, not a delta)."""
        if key not in self.rows:
            self.fresh.add(key)
        self.rows[key] = value
        self.dirty.add(key)

    def close(self, move: Move) -> None:
        """Flag the tenant's intervals the watermark has passed final and drop what nothing can reach any more."""
        tenant, at, width, delay = move.tenant, self._start_at, self._width_ms, self._delay_ms
        crossed = move.crossed(width, delay or 0)
        fresh = [key for key in self.fresh if key[0] == tenant] if self.fresh else []
        self.fresh.difference_update(fresh)
        final, dirty = self.final, self.dirty
        if delay is not None:
            last_final = move.watermark - delay - width  # the latest interval start that is final
            for key in self.rows if crossed else fresh:
                if key[0] == tenant and key[at] <= last_final and key not in final:
                    final.add(key)
                    dirty.add(key)
        if crossed:
            # Rows still waiting to be drained are kept until the next crossing, so no final row is lost.
            last_kept = move.admissible_from - self._reach_ms - width
            for key in [k for k in self.rows if k[0] == tenant and k[at] <= last_kept and k not in dirty]:
                del self.rows[key]
                final.discard(key)

    def drain(self) -> Iterator[tuple[K, V, bool]]:
        """The keys changed since the last drain, in key order, with their state and final flag."""
        dirty, self.dirty = self.dirty, set()
        final, rows = self.final, self.rows
        for key in sorted(dirty):
            yield key, rows[key], key in final

    def snapshot(self, dump: Callable[[V], list[Any]]) -> dict[str, Any]:
        """Rows as lists of the key's values followed by `dump` of the state."""
        return {
            "rows": [[*key, *dump(value)] for key, value in self.rows.items()],
            "final": [list(key) for key in self.final],
            "dirty": [list(key) for key in self.dirty],
            "fresh": [list(key) for key in self.fresh],
        }

    def restore(self, snapshot: dict[str, Any], load: Callable[[list[Any]], V]) -> None:
        n = self._key_length
        for row in snapshot["rows"]:
            self.rows[tuple(row[:n])] = load(row[n:])  # type: ignore[index]
        self.final = {tuple(key) for key in snapshot["final"]}  # type: ignore[misc]
        self.dirty = {tuple(key) for key in snapshot["dirty"]}  # type: ignore[misc]
        self.fresh = {tuple(key) for key in snapshot.get("fresh", ())}  # type: ignore[misc]


class Contact(Protocol):
    """A contact's own state: its interval key (tenant first) and the event time of its last event."""

    key: tuple[Any, ...]
    last_ms: int


C = TypeVar("C", bound=Contact)


@dataclass(slots=True)
class Leg:
    """One contact leg: the key its figures were counted under, and whether an internal transfer queued it.

    A transferred-in leg is the same customer call again, so its answer or abandon is not counted as one; but
    its answer may be read before its queue entry says what it is (input out of order). So the leg remembers
    the outcome it counted (`counted`: the wait of an answer, or -1 - the wait of an abandon), and `take_back`
    returns it when the queue entry arrives: the counts are the same for any order of the same events."""

    key: tuple[Any, ...]
    last_ms: int
    transfer_in: bool = False
    counted: int | None = None

    def dump(self) -> list[Any]:
        return [*self.key, self.last_ms, self.transfer_in, self.counted]

    @classmethod
    def loader(cls, key_length: int) -> Callable[[list[Any]], Leg]:
        """Values of `dump`; those of checkpoints from before transfer-ins were told apart lack the last two."""
        return lambda values: cls(tuple(values[:key_length]), *values[key_length:])


def answer_code(wait_ms: int, answered: bool) -> int:
    """An outcome as one int (`Leg.counted`): the wait of an answer, -1 - the wait of an abandon."""
    return wait_ms if answered else -1 - wait_ms


class ContactStore(Generic[C]):
    """Per-contact state, kept `keep_ms` after the contact's last event (a QA score later than that is dated
    by its own time). Swept four times per that span, so each contact is looked at a handful of times in its
    life, not once per interval."""

    __slots__ = ("_keep_ms", "_next_sweep", "items")

    def __init__(self, keep_ms: int) -> None:
        self._keep_ms = keep_ms
        self.items: dict[str, C] = {}
        self._next_sweep: dict[str, int] = {}  # per tenant

    def sweep(self, move: Move) -> None:
        tenant, watermark = move.tenant, move.watermark
        if watermark < self._next_sweep.get(tenant, NEVER):
            return
        self._next_sweep[tenant] = watermark + self._keep_ms // 4
        horizon = watermark - self._keep_ms
        items = self.items
        for contact_id in [
            c for c, item in items.items() if item.key[0] == tenant and item.last_ms <= horizon
        ]:
            del items[contact_id]

    def snapshot(self, dump: Callable[[C], list[Any]]) -> dict[str, Any]:
        return {
            "items": [[contact_id, *dump(item)] for contact_id, item in self.items.items()],
            "next_sweep": dict(self._next_sweep),
        }

    def restore(self, snapshot: dict[str, Any], load: Callable[[list[Any]], C]) -> None:
        self.items = {contact_id: load(values) for contact_id, *values in snapshot["items"]}
        self._next_sweep = dict(snapshot.get("next_sweep", {}))


class Timeline:
    """The event time of one stream partition, shared by its engines: the only watermark in the engine.

    Per tenant: the latest event time seen and the watermark (the latest event time minus the allowed
    lateness, moved on further by `idle` when the partition is quiet; it never goes back). Watermarks are per
    tenant, not per partition: tenants are separate operations (or simulated scenarios) whose feeds may run
    hours apart on the same partition, and one must not close another's intervals.

    Row versions: a row's version is the last offset the partition applied when it was drained. Tables that
    flag finality (`is_final`, `censored`) double it and add the flag, so the final row outranks the open one
    written at the same offset; ReplacingMergeTree keeps the highest.
    """

    def __init__(self, width_ms: int, lateness_ms: int = 0, retention_ms: int = 0) -> None:
        self.width_ms = width_ms
        self.lateness_ms = lateness_ms
        self.retention_ms = retention_ms
        self.latest: dict[str, int] = {}
        self.marks: dict[str, int] = {}
        self.applied_offset = -1  # the last offset an engine applied: the rows' version
        self._tables: list[IntervalTable[Any, Any]] = []
        self._stores: list[ContactStore[Any]] = []

    @classmethod
    def of(cls, config: EngineConfig) -> Timeline:
        return cls(config.interval_ms, config.lateness_ms, config.retention_ms)

    # --- the engines' state ------------------------------------------------------------------------------

    def table(
        self,
        new: Callable[[], V],
        key_length: int = 4,
        start_at: int = 3,
        delay_ms: int | None = 0,
        reach_ms: int = 0,
    ) -> IntervalTable[Any, V]:
        """A table closed with every advance of this timeline (see `IntervalTable`)."""
        table: IntervalTable[Any, V] = IntervalTable(
            new, self.width_ms, key_length, start_at, delay_ms, reach_ms
        )
        self._tables.append(table)
        return table

    def contacts(self, keep_ms: int) -> ContactStore[Any]:
        store: ContactStore[Any] = ContactStore(keep_ms)
        self._stores.append(store)
        return store

    # --- time ----------------------------------------------------------------------------------------------

    def applied(self, offset: int) -> None:
        if offset > self.applied_offset:
            self.applied_offset = offset

    def version(self, final: bool | None = None) -> int:
        """See the class docstring: `final` None for a table that does not flag finality."""
        return self.applied_offset if final is None else 2 * self.applied_offset + final

    def watermark(self, tenant: str) -> int:
        """From the events alone: the latest event time minus the allowed lateness."""
        return self.latest.get(tenant, NEVER) - self.lateness_ms

    @property
    def latest_any(self) -> int:
        return max(self.latest.values(), default=NEVER)

    def lowest_watermark(self) -> int:
        return min((self.watermark(tenant) for tenant in self.latest), default=NEVER)

    def advance(self, tenant: str, watermark_ms: int) -> Move:
        """Move the tenant's watermark to `watermark_ms` (never back): intervals it passed are final, state no
        admissible event can reach is dropped, contacts quiet for long enough are swept."""
        previous = self.marks.get(tenant, NEVER)
        move = Move(tenant, previous, max(watermark_ms, previous), self.watermark(tenant) - self.retention_ms)
        self.marks[tenant] = move.watermark
        for table in self._tables:
            table.close(move)
        if move.crossed(self.width_ms):
            for store in self._stores:
                store.sweep(move)
        return move

    def idle(self, quiet_ms: int) -> list[Move]:
        """Every tenant's time moved on by `quiet_ms` without events (a quiet partition), so intervals close."""
        return [
            self.advance(tenant, latest + quiet_ms - self.lateness_ms)
            for tenant, latest in self.latest.items()
        ]

    def snapshot(self) -> dict[str, Any]:
        return {"latest": dict(self.latest), "marks": dict(self.marks), "applied_offset": self.applied_offset}

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.latest = dict(snapshot["latest"])
        self.marks = dict(snapshot["marks"])
        self.applied_offset = snapshot["applied_offset"]
