"""Calls waiting in each source's queue, and the oldest wait: what a supervisor reads first on the Now view.

The interval counters cannot give them (a redirect leaves a queue without a flow-out, a transferred-in leg is
not offered), so one partition's queue is tracked leg by leg: a leg waits from its `contact.queued` until it is
answered, abandoned, overflowed or redirected with an accepted hand-off (a failed or returned hand-off leaves
the caller where it was). Two readings:

- `now`: the legs waiting as of the partition's latest event, for the live page (`queue_live`);
- `at(tenant, t)`: the legs waiting at an earlier moment `t` (an interval boundary), exact as long as what
  happened since came within the allowed lateness: legs that left after `t` are kept for that long. The alert
  stage reads it at each boundary the watermark crosses (`QueueSample`), for the oldest-wait rule.

A leg whose outcome never comes (a lost event) is forgotten after the contact-state horizon. Pure: no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from typing import NamedTuple

from streams.engine.timebase import to_ms
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactOverflowed
from streams.events import ContactQueued
from streams.events import ContactRedirected
from streams.events import Event


class QueueSample(NamedTuple):
    """A source's queue at moment `at_ms` in one partition: legs waiting, and when the longest waiting queued."""

    tenant: str
    source: str
    at_ms: int
    waiting: int
    oldest_queued_ms: int | None


class QueueTracker:
    """The legs waiting in one contact partition's queues (see the module docstring)."""

    def __init__(self, keep_ms: int, remember_ms: int) -> None:
        """`keep_ms`: how long a leg may wait before it is taken for lost; `remember_ms`: how long a leg that
        left is kept for `at` (the allowed lateness and an interval)."""
        self._keep_ms = keep_ms
        self._remember_ms = remember_ms
        self.waiting: dict[str, tuple[str, str, int]] = {}  # contact id -> (tenant, source, queued ms)
        # Legs that left, (tenant, source, queued ms, left ms), in the order they left.
        self._left: list[tuple[str, str, int, int]] = []

    def apply(self, events: Iterable[tuple[int, Event]]) -> None:
        waiting, left = self.waiting, self._left
        for _, event in events:
            if isinstance(event, ContactQueued):
                waiting[event.contact_id] = (event.tenant, event.source, to_ms(event.ts))
            elif isinstance(event, (ContactAnswered, ContactAbandoned, ContactOverflowed)) or (
                isinstance(event, ContactRedirected) and event.handoff == "accepted"
            ):
                leg = waiting.pop(event.contact_id, None)
                if leg is not None:
                    left.append((*leg, to_ms(event.ts)))

    def now(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(tenant, source) -> (legs waiting, the earliest queued ms among them)."""
        out: dict[tuple[str, str], tuple[int, int]] = {}
        for tenant, source, queued in self.waiting.values():
            count, oldest = out.get((tenant, source), (0, queued))
            out[(tenant, source)] = (count + 1, min(oldest, queued))
        return out

    def at(self, tenant: str, at_ms: int) -> list[QueueSample]:
        """The tenant's legs waiting at `at_ms`, per source: queued by then, and still waiting or left after it."""
        per_source: dict[str, list[int]] = {}
        for t, source, queued in self.waiting.values():
            if t == tenant and queued <= at_ms:
                per_source.setdefault(source, []).append(queued)
        for t, source, queued, left_ms in self._left:
            if t == tenant and queued <= at_ms < left_ms:
                per_source.setdefault(source, []).append(queued)
        return [
            QueueSample(tenant, source, at_ms, len(queued), min(queued))
            for source, queued in sorted(per_source.items())
        ]

    def settle(self, watermark_ms: int) -> None:
        """Forget legs that left more than `remember_ms` before the watermark, and legs waiting beyond `keep_ms`."""
        horizon = watermark_ms - self._remember_ms
        if self._left and self._left[0][3] < horizon:
            self._left = [leg for leg in self._left if leg[3] >= horizon]
        lost = watermark_ms - self._keep_ms
        for contact_id in [c for c, (_, _, queued) in self.waiting.items() if queued < lost]:
            del self.waiting[contact_id]

    def snapshot(self) -> dict[str, Any]:
        return {
            "waiting": [[c, *leg] for c, leg in self.waiting.items()],
            "left": [list(leg) for leg in self._left],
        }

    def load(self, snapshot: dict[str, Any]) -> None:
        self.waiting = {c: (t, s, q) for c, t, s, q in snapshot["waiting"]}
        self._left = [(t, s, q, left) for t, s, q, left in snapshot["left"]]
