"""Twilio TaskRouter event callbacks (one JSON object per line) to canonical events.

A pure adapter over lines that remembers each task while it lives (queue entry, acceptance) to date waits and
talk. Source: Twilio docs "TaskRouter Events". Mapping: task.created -> offered; task-queue.entered -> queued;
reservation.accepted -> answered; task-queue.timeout / task-queue.moved -> overflowed (trigger timeout; the
next task-queue.entered is the new leg); task.canceled with reason hangup -> abandoned; task.wrapup -> ended;
task.completed -> wrap-up ended; worker.activity.update -> agent login / ready / not ready / logout.

Every line lands in one count of the `FeedReport`: a line that makes events is accepted; one that carries a
call fact no canonical event holds (a task canceled for another reason than a hangup, a reservation an agent
rejected or let time out) is accepted and that fact counted as observed; a well-formed line with no fact of
ours (a workflow or worker-channel event, a task update, an Offline for a worker not logged in) is skipped by
kind; a malformed one (or one for a task never created) is rejected with its line number and text.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

from producers.feeds.rejects import MALFORMED
from producers.feeds.rejects import Reject
from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from producers.feeds.report import held_lines
from producers.feeds.report import text_lines
from streams.events import AgentLogin
from streams.events import AgentLogout
from streams.events import AgentNotReady
from streams.events import AgentReady
from streams.events import CallerHasher
from streams.events import ContactAbandoned
from streams.events import ContactAnswered
from streams.events import ContactEnded
from streams.events import ContactOffered
from streams.events import ContactOverflowed
from streams.events import ContactQueued
from streams.events import ContactWrapupEnded
from streams.events import Event

_NAMESPACE = uuid.UUID("0e6b3d7c-4a12-45f9-9c8e-71d2b5a3f604")
_MS = timedelta(milliseconds=1)
# Reservation outcomes that say an agent was offered the task and did not take it: no canonical event holds a
# ring that was not answered, so they are observed rather than dropped.
_NOT_TAKEN = frozenset({"reservation.rejected", "reservation.timeout"})
_KIND_CHARS = 64  # an event type in a skip kind is cut, so a hostile feed cannot grow the counter's keys


@dataclass
class _Task:
    initial: str
    contact_id: str
    legs: int
    source: str
    call_type: str
    first_enqueued: datetime | None = None
    enqueued: datetime | None = None
    accepted: datetime | None = None
    wrapped: datetime | None = None
    agent: str = "unknown"


class TaskRouterAdapter:
    """`queues` maps TaskQueue names to sources (a vendor's queue in the same workspace); `overflow_to` names
    the source a queue's timed-out tasks go to; `worker_sources` maps workers to their source. Counts go to
    `report` (a fresh one when none is given)."""

    def __init__(
        self,
        tenant: str,
        caller_key: bytes,
        queues: dict[str, str] | None = None,
        overflow_to: dict[str, str] | None = None,
        worker_sources: dict[str, str] | None = None,
        team: str = "default",
        report: FeedReport | None = None,
    ) -> None:
        self.tenant = tenant
        self.hasher = CallerHasher(caller_key)
        self.queues = queues or {}
        self.overflow_to = overflow_to or {}
        self.worker_sources = worker_sources or {}
        self.team = team
        self.report = report if report is not None else FeedReport("taskrouter")
        self._tasks: dict[str, _Task] = {}
        self._online: set[str] = set()

    def adapt(self, lines: Iterable[str]) -> Iterator[Event | Reject]:
        """Lines held in memory, in file order: events and, in its place, a `Reject` for each bad line."""
        return self.adapt_numbered(held_lines(lines, self.report))

    def adapt_numbered(self, lines: Iterable[tuple[int, str]]) -> Iterator[Event | Reject]:
        """Numbered non-blank lines (read and blank already counted by `text_lines` or `held_lines`)."""
        for number, line in lines:
            try:
                outcome = self._event(number, json.loads(line))
            except MALFORMED as exc:
                yield self.report.reject(number, f"{type(exc).__name__}: {exc}", line)
                continue
            if isinstance(outcome, str):
                self.report.skip(outcome)
                continue
            self.report.accepted += 1
            for event in outcome:
                self.report.events[event.type] += 1
                yield event

    def _id(self, number: int, kind: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"{self.tenant}/{number}/{kind}")

    def _event(self, number: int, p: dict[str, Any]) -> list[Event] | str:
        """The line's events (none for an accepted line whose fact is observed), or the kind it is skipped as."""
        kind = p["EventType"]
        ts = datetime.fromtimestamp(float(p["Timestamp"]), tz=UTC)
        if kind == "worker.activity.update":
            return self._worker(number, ts, p)
        if not kind.startswith(("task.", "task-queue.", "reservation.")):
            return f"not a call event: {kind[:_KIND_CHARS]}"
        sid = p["TaskSid"]
        task = self._tasks.get(sid)
        if kind == "task.created":
            attributes = json.loads(p.get("TaskAttributes") or "{}")
            task = self._tasks[sid] = _Task(sid, sid, 1, "", attributes.get("type", "default")[:64])
            caller = attributes.get("from") or ""
            queue = p.get("TaskQueueName") or ""
            task.source = self.queues.get(queue, "in-house")
            return [ContactOffered(event_id=self._id(number, "offered"), ts=ts,
                                   caller_hash=self.hasher(caller) if caller else None, **self._common(task))]  # fmt: skip
        if task is None:
            raise ValueError(f"{kind} for task {sid!r} never created")
        if kind == "task-queue.entered":
            source = self.queues.get(p.get("TaskQueueName") or "", "in-house")
            if task.enqueued is not None:  # a new leg after a move
                task.legs += 1
                task.contact_id = f"{task.initial}.{task.legs}"
            task.source = source
            task.enqueued = ts
            task.first_enqueued = task.first_enqueued or ts
            return [ContactQueued(event_id=self._id(number, "queued"), ts=ts, queue=p.get("TaskQueueName") or "default",
                                  **self._common(task))]  # fmt: skip
        if kind in ("task-queue.timeout", "task-queue.moved"):
            queue = p.get("TaskQueueName") or ""
            wait_ms = int((ts - (task.enqueued or ts)) / _MS)
            return [ContactOverflowed(event_id=self._id(number, "overflowed"), ts=ts,
                                      to_source=self.overflow_to.get(queue, "unknown"), trigger="timeout",
                                      wait_ms=wait_ms, **self._common(task))]  # fmt: skip
        if kind == "reservation.accepted":
            task.accepted = ts
            task.agent = p.get("WorkerName") or "unknown"
            wait_ms = int((ts - (task.enqueued or ts)) / _MS)
            total = int((ts - (task.first_enqueued or ts)) / _MS)
            return [ContactAnswered(event_id=self._id(number, "answered"), ts=ts, agent_id=task.agent, wait_ms=wait_ms,
                                    total_wait_ms=max(total, wait_ms), **self._common(task))]  # fmt: skip
        if kind == "task.canceled":
            reason = p.get("TaskCanceledReason") or ""
            if not isinstance(reason, str):
                raise TypeError(f"TaskCanceledReason must be a string, not {type(reason).__name__}")
            if reason.lower() != "hangup":
                # The task left unanswered, but not because the caller hung up (a TTL, a workflow timeout, an
                # API cancel): no abandon is counted, and the fact is kept as observed.
                self.report.observed[f"task canceled, not a hangup: {reason[:_KIND_CHARS]}"] += 1
                return []
            wait_ms = int((ts - (task.enqueued or ts)) / _MS)
            total = int((ts - (task.first_enqueued or ts)) / _MS)
            return [ContactAbandoned(event_id=self._id(number, "abandoned"), ts=ts, wait_ms=wait_ms,
                                     total_wait_ms=max(total, wait_ms), **self._common(task))]  # fmt: skip
        if kind == "task.wrapup":
            task.wrapped = ts
            talk_ms = int((ts - (task.accepted or ts)) / _MS)
            return [ContactEnded(event_id=self._id(number, "ended"), ts=ts, agent_id=task.agent, talk_ms=talk_ms,
                                 **self._common(task))]  # fmt: skip
        if kind == "task.completed":
            acw_ms = int((ts - (task.wrapped or ts)) / _MS)
            completed = ContactWrapupEnded(event_id=self._id(number, "completed"), ts=ts, agent_id=task.agent,
                                           acw_ms=acw_ms, **self._common(task))  # fmt: skip
            del self._tasks[sid]
            return [completed]
        if kind in _NOT_TAKEN:
            self.report.observed[f"offered to an agent, not taken: {kind}"] += 1
            return []
        # Task bookkeeping (task.updated, reservation.created, ...): the mapped events above already say it.
        return f"call event not mapped: {kind[:_KIND_CHARS]}"

    def _common(self, task: _Task) -> dict[str, str]:
        return {"tenant": self.tenant, "contact_id": task.contact_id, "initial_contact_id": task.initial,
                "source": task.source or "in-house", "call_type": task.call_type}  # fmt: skip

    def _worker(self, number: int, ts: datetime, p: dict[str, Any]) -> list[Event] | str:
        worker = p.get("WorkerName") or p["WorkerSid"]
        activity = p["WorkerActivityName"]
        common = {"tenant": self.tenant, "agent_id": worker, "source": self.worker_sources.get(worker, "in-house"),
                  "team": self.team}  # fmt: skip
        if activity == "Offline":
            if worker not in self._online:
                return "offline, not logged in"  # the state it was already in: nothing changed
            self._online.discard(worker)
            return [AgentLogout(event_id=self._id(number, "logout"), ts=ts, **common)]
        events: list[Event] = []
        if worker not in self._online:
            self._online.add(worker)
            events.append(AgentLogin(event_id=self._id(number, "login"), ts=ts, **common))
        if activity == "Available":
            events.append(AgentReady(event_id=self._id(number, "ready"), ts=ts, **common))
        else:
            events.append(
                AgentNotReady(event_id=self._id(number, "not_ready"), ts=ts, reason=activity[:64], **common)
            )
        return events


def read(path: Path, options: FeedOptions, report: FeedReport) -> Iterator[Event]:
    """A TaskRouter callback log's events in event-time order (a stable sort, so a task keeps its own order):
    callbacks are logged as they are delivered, which is not the order they happened in. The file is read
    whole before the first event; `report` is complete when the iterator is exhausted."""
    adapter = TaskRouterAdapter(options.tenant, options.caller_key, report=report)
    events = [
        item for item in adapter.adapt_numbered(text_lines(path, report)) if not isinstance(item, Reject)
    ]
    yield from sorted(events, key=lambda event: event.ts)
