"""Twilio TaskRouter event callbacks (one JSON object per line) to canonical events.

A pure adapter over lines that remembers each task while it lives (queue entry, acceptance) to date waits and
talk. Source: Twilio docs "TaskRouter Events". Mapping: task.created -> offered; task-queue.entered -> queued;
reservation.accepted -> answered; task-queue.timeout / task-queue.moved -> overflowed (trigger timeout; the
next task-queue.entered is the new leg); task.canceled with reason hangup -> abandoned; task.wrapup -> ended;
task.completed -> wrap-up ended; worker.activity.update -> agent login / ready / not ready / logout. Other
event types are counted as ignored; malformed lines are rejected with their line number.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from producers.feeds.rejects import MALFORMED
from producers.feeds.rejects import Reject
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


@dataclass
class TaskRouterReport:
    accepted: int = 0
    rejected: int = 0
    ignored: Counter[str] = field(default_factory=Counter)


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
    the source a queue's timed-out tasks go to; `worker_sources` maps workers to their source."""

    def __init__(
        self,
        tenant: str,
        caller_key: bytes,
        queues: dict[str, str] | None = None,
        overflow_to: dict[str, str] | None = None,
        worker_sources: dict[str, str] | None = None,
        team: str = "default",
    ) -> None:
        self.tenant = tenant
        self.hasher = CallerHasher(caller_key)
        self.queues = queues or {}
        self.overflow_to = overflow_to or {}
        self.worker_sources = worker_sources or {}
        self.team = team
        self.report = TaskRouterReport()
        self._tasks: dict[str, _Task] = {}
        self._online: set[str] = set()

    def adapt(self, lines: Iterable[str]) -> Iterator[Event | Reject]:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                payload = json.loads(line)
                produced = list(self._event(number, payload))
            except MALFORMED as exc:
                self.report.rejected += 1
                yield Reject(number, f"{type(exc).__name__}: {exc}")
                continue
            self.report.accepted += 1
            yield from produced

    def _id(self, number: int, kind: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, f"{self.tenant}/{number}/{kind}")

    def _event(self, number: int, p: dict[str, Any]) -> Iterator[Event]:
        kind = p["EventType"]
        ts = datetime.fromtimestamp(float(p["Timestamp"]), tz=UTC)
        if kind == "worker.activity.update":
            yield from self._worker(number, ts, p)
            return
        if not kind.startswith(("task.", "task-queue.", "reservation.")):
            self.report.ignored[kind] += 1
            return
        sid = p["TaskSid"]
        task = self._tasks.get(sid)
        if kind == "task.created":
            attributes = json.loads(p.get("TaskAttributes") or "{}")
            task = self._tasks[sid] = _Task(sid, sid, 1, "", attributes.get("type", "default")[:64])
            caller = attributes.get("from") or ""
            queue = p.get("TaskQueueName") or ""
            task.source = self.queues.get(queue, "in-house")
            yield ContactOffered(event_id=self._id(number, "offered"), ts=ts,
                                 caller_hash=self.hasher(caller) if caller else None, **self._common(task))  # fmt: skip
            return
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
            yield ContactQueued(event_id=self._id(number, "queued"), ts=ts, queue=p.get("TaskQueueName") or "default",
                                **self._common(task))  # fmt: skip
        elif kind in ("task-queue.timeout", "task-queue.moved"):
            queue = p.get("TaskQueueName") or ""
            wait_ms = int((ts - (task.enqueued or ts)) / _MS)
            yield ContactOverflowed(event_id=self._id(number, "overflowed"), ts=ts,
                                    to_source=self.overflow_to.get(queue, "unknown"), trigger="timeout",
                                    wait_ms=wait_ms, **self._common(task))  # fmt: skip
        elif kind == "reservation.accepted":
            task.accepted = ts
            task.agent = p.get("WorkerName") or "unknown"
            wait_ms = int((ts - (task.enqueued or ts)) / _MS)
            total = int((ts - (task.first_enqueued or ts)) / _MS)
            yield ContactAnswered(event_id=self._id(number, "answered"), ts=ts, agent_id=task.agent, wait_ms=wait_ms,
                                  total_wait_ms=max(total, wait_ms), **self._common(task))  # fmt: skip
        elif kind == "task.canceled":
            if (p.get("TaskCanceledReason") or "").lower() != "hangup":
                self.report.ignored[f"task.canceled:{p.get('TaskCanceledReason')}"] += 1
                return
            wait_ms = int((ts - (task.enqueued or ts)) / _MS)
            total = int((ts - (task.first_enqueued or ts)) / _MS)
            yield ContactAbandoned(event_id=self._id(number, "abandoned"), ts=ts, wait_ms=wait_ms,
                                   total_wait_ms=max(total, wait_ms), **self._common(task))  # fmt: skip
        elif kind == "task.wrapup":
            task.wrapped = ts
            talk_ms = int((ts - (task.accepted or ts)) / _MS)
            yield ContactEnded(event_id=self._id(number, "ended"), ts=ts, agent_id=task.agent, talk_ms=talk_ms,
                               **self._common(task))  # fmt: skip
        elif kind == "task.completed":
            acw_ms = int((ts - (task.wrapped or ts)) / _MS)
            yield ContactWrapupEnded(event_id=self._id(number, "completed"), ts=ts, agent_id=task.agent,
                                     acw_ms=acw_ms, **self._common(task))  # fmt: skip
            del self._tasks[sid]
        else:
            self.report.ignored[kind] += 1

    def _common(self, task: _Task) -> dict[str, str]:
        return {"tenant": self.tenant, "contact_id": task.contact_id, "initial_contact_id": task.initial,
                "source": task.source or "in-house", "call_type": task.call_type}  # fmt: skip

    def _worker(self, number: int, ts: datetime, p: dict[str, Any]) -> Iterator[Event]:
        worker = p.get("WorkerName") or p["WorkerSid"]
        activity = p["WorkerActivityName"]
        common = {"tenant": self.tenant, "agent_id": worker, "source": self.worker_sources.get(worker, "in-house"),
                  "team": self.team}  # fmt: skip
        if activity == "Offline":
            if worker in self._online:
                self._online.discard(worker)
                yield AgentLogout(event_id=self._id(number, "logout"), ts=ts, **common)
            return
        if worker not in self._online:
            self._online.add(worker)
            yield AgentLogin(event_id=self._id(number, "login"), ts=ts, **common)
        if activity == "Available":
            yield AgentReady(event_id=self._id(number, "ready"), ts=ts, **common)
        else:
            yield AgentNotReady(event_id=self._id(number, "not_ready"), ts=ts, reason=activity[:64], **common)
