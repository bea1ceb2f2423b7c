"""The edge's commit step: buffered rows to ClickHouse, then the engines' checkpoints, then acks. It decides
when a consumed offset may be committed, and nothing else does.

No Kafka client and no clock of its own: messages are anything with a topic, partition and offset, acks go to
the callable handed in (Faust's `Consumer.ack`), time is the injected clock, blocking I/O runs in a daemon thread
(`in_daemon_thread`): a write or read stuck on an unreachable ClickHouse never holds up the event loop, and never
the process's exit either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from functools import partial
from typing import Any
from typing import Generic
from typing import Protocol
from typing import TypeVar

from streams.clock import Clock
from streams.edge.pipeline import EnginePipeline
from streams.edge.records import Record
from streams.warehouse.tables import CHECKPOINT

log = logging.getLogger(__name__)


class Consumed(Protocol):
    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...


M = TypeVar("M", bound=Consumed)
T = TypeVar("T")
ReadCheckpoint = Callable[[str, int], dict[str, Any] | None]
MAX_BACKOFF_S = 30.0


async def in_daemon_thread(call: Callable[[], T], name: str = "clickhouse-io") -> T:
    """`call()` in a new daemon thread, awaited without blocking the event loop.

    Not `asyncio.to_thread`: the default executor's threads are joined at interpreter exit, so an insert or a
    query stuck on an unreachable ClickHouse (the client's receive timeout is minutes) kept a stopped worker
    alive. Cancelling the await returns at once; the thread finishes (or dies with the process) on its own,
    and whatever it was writing is covered by the commit rule: nothing it carried was acked."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():  # the awaiting side was cancelled (the worker is stopping)
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        result: T | None = None
        error: BaseException | None = None
        try:
            result = call()
        except BaseException as exc:  # handed to the awaiting side, whatever it is
            error = exc
        # A closed loop raises: the worker stopped while this ran, and nobody waits for it.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name=name, daemon=True).start()
    return await future


async def retry_transient(
    attempt: Callable[[], Awaitable[T]],
    clock: Clock,
    transient: tuple[type[Exception], ...],
    waiting_for: str,
    first_backoff_s: float = 0.5,
) -> T:
    """`attempt()` until it does not raise one of `transient`, sleeping on `clock` between tries (0.5 s doubling
    up to 30 s) with one log line per try saying what is waited for. Any other error propagates.

    Only awaits: the event loop, the group's heartbeats and a SIGTERM's stop go on meanwhile, and a cancel
    (the worker stopping) ends the wait at once."""
    backoff = first_backoff_s
    failures = 0
    while True:
        try:
            result = await attempt()
        except transient as exc:
            failures += 1
            log.warning("waiting for %s: attempt %d failed (%s: %s); retrying in %.1f s",
                        waiting_for, failures, type(exc).__name__, _first_line(exc, 200), backoff)  # fmt: skip
            await clock.sleep(backoff)
            backoff = min(MAX_BACKOFF_S, backoff * 2)
            continue
        if failures:
            log.info("done waiting for %s, after %d failed attempts", waiting_for, failures)
        return result


class CommitStep(Generic[M]):
    """Buffer -> write rows -> write checkpoints -> ack, on the model of arroyo's processing steps: `submit`
    hands in messages the pipeline has processed, `poll` does what is due, `close` ends with a last checkpoint,
    `join` waits for the write in flight.

    The commit rule: a message is acked (so Faust may commit its offset) only once a written checkpoint covers
    it, i.e. the engine state that counted it is in ClickHouse, written after the rows it produced; a dead
    letter, once its dead-letter row is written. Checkpoints are taken every `checkpoint_interval_s`, in the
    same flush as the rows and after them. If the worker dies
    - before a flush: rows and state were only in memory and nothing was acked; the partition is re-read from
      its committed offset and the engines, restored from the last checkpoint, skip what it counted;
    - during a flush: some rows may be written, the checkpoint (written last) not; the same as before, and the
      rows written again carry the same key and version, so they replace;
    - after a flush, before Faust commits: the acked offsets are re-read and skipped by offset.
    So nothing is lost and nothing counted twice. Rows are flushed about every `sink_max_age_s`; while ClickHouse
    refuses writes the rows are kept and retried with backoff, and past `max_buffered_rows` `poll` waits
    (consuming pauses, memory stays bounded).
    """

    def __init__(
        self,
        pipeline: EnginePipeline,
        ack: Callable[[M], object],
        clock: Clock,
        *,
        app_id: str,
        checkpoint_interval_s: float,
        max_buffered_rows: int,
        read_checkpoint: ReadCheckpoint,
        transient: tuple[type[Exception], ...] = (),
    ) -> None:
        """`read_checkpoint` is blocking (it runs in a thread); `transient` are the errors of an unreachable
        warehouse, waited out with backoff: any other error is a fault and propagates."""
        self.pipeline = pipeline
        self.sink = pipeline.sink
        self._ack = ack
        self._clock = clock
        self._app_id = app_id
        self._checkpoint_interval_s = checkpoint_interval_s
        self._max_buffered_rows = max_buffered_rows
        self._read_checkpoint = read_checkpoint
        self._transient = transient
        self._unacked: list[M] = []
        self._dead: set[tuple[str, int, int]] = set()  # dead letters whose row is still to be written
        self._lock = asyncio.Lock()
        self._last_checkpoint = clock.monotonic()
        self._flushing: asyncio.Task[None] | None = None
        self._failures = 0

    def due(self) -> bool:
        """A flush is due: the sink's size or age, or messages waiting for their ack."""
        return self.sink.due() or bool(self._unacked)

    async def prepare(self, records: Sequence[Record]) -> None:
        """Before a batch: restore the engines of partitions seen for the first time from their checkpoints.

        Nothing of such a partition can be counted without its checkpoint, so while ClickHouse is unreachable
        this waits (backing off up to 30 s); the event loop runs on, and with it the group's heartbeats."""
        for topic, partition in self.pipeline.unstarted(records):
            snapshot = await retry_transient(
                partial(self._read_in_thread, topic, partition),
                self._clock,
                self._transient,
                f"ClickHouse to read the checkpoint of {topic}[{partition}]",
            )
            self.pipeline.start(topic, partition, snapshot)

    async def _read_in_thread(self, topic: str, partition: int) -> dict[str, Any] | None:
        return await in_daemon_thread(partial(self._read_checkpoint, topic, partition))

    def submit(self, messages: Iterable[M], dead: Iterable[tuple[str, int, int]] = ()) -> None:
        """Messages the pipeline processed, and which of them (topic, partition, offset) are dead letters."""
        self._unacked.extend(messages)
        self._dead.update(dead)

    async def poll(self) -> None:
        """Start a flush in the background when one is due, so consuming goes on while ClickHouse writes; past
        `max_buffered_rows` wait for it, and while writes fail keep retrying without returning."""
        if not self.sink.due():
            return
        backoff = 0.5
        while True:
            if self._flushing is None or self._flushing.done():
                self._flushing = asyncio.create_task(self.flush())
                self._flushing.add_done_callback(_report_failure)
            if self.sink.pending_rows < self._max_buffered_rows:
                return
            await asyncio.shield(self._flushing)
            if self.sink.pending_rows < self._max_buffered_rows:
                return
            log.warning("sink behind (%d rows buffered): consuming paused, retrying in %.1f s",
                        self.sink.pending_rows, backoff)  # fmt: skip
            await self._clock.sleep(backoff)
            backoff = min(MAX_BACKOFF_S, backoff * 2)

    async def flush(self, force_checkpoint: bool = False) -> None:
        """One flush: checkpoints if due, every buffered row written in a thread (checkpoints last), then acks.

        A failed write puts the rows back and acks nothing; the next flush retries them."""
        async with self._lock:
            checkpoints = []
            now = self._clock.monotonic()
            if force_checkpoint or now - self._last_checkpoint >= self._checkpoint_interval_s:
                checkpoints = self.pipeline.checkpoint(self._app_id)
                if checkpoints:
                    self.sink.add(CHECKPOINT, checkpoints)
                self._last_checkpoint = now
            batch = self.sink.detach()
            dead, self._dead = self._dead, set()
            if batch:
                began = self._clock.monotonic()
                try:
                    written = await in_daemon_thread(partial(self.sink.write, batch))
                except Exception as exc:
                    # One line per failed attempt (an outage retries every few seconds); the first has the traceback.
                    self._failures += 1
                    log.warning(
                        "sink write failed (%d in a row): %s: %s; rows kept and retried, offsets not committed",
                        self._failures, type(exc).__name__, _first_line(exc, 300), exc_info=self._failures == 1,
                    )  # fmt: skip
                    self.sink.restore(batch)
                    self._dead |= dead
                    return
                self.sink.rows_written += written
                if self._failures:
                    log.info("sink writes succeed again after %d failures", self._failures)
                    self._failures = 0
                log.info("sink flushed %d rows (%d checkpoints) in %.3f s; accepted %d events, dead letters %d",
                         written, len(checkpoints), self._clock.monotonic() - began, self.pipeline.accepted_events,
                         self.pipeline.rejected)  # fmt: skip
            # Every checkpoint this write carried, including one put back by a failed write before it.
            carried: list[Any] = [row for spec, rows in batch if spec is CHECKPOINT for row in rows]
            self.pipeline.mark_checkpointed(carried)
            self._ack_covered(dead)

    def _ack_covered(self, dead: set[tuple[str, int, int]]) -> None:
        covered_up_to = self.pipeline.checkpointed_offset
        keep = []
        for message in self._unacked:
            if (
                message.offset <= covered_up_to(message.topic, message.partition)
                or (message.topic, message.partition, message.offset) in dead
            ):
                self._ack(message)
            else:
                keep.append(message)
        self._unacked = keep

    async def join(self) -> None:
        """Wait for the flush in flight, if any."""
        if self._flushing is not None and not self._flushing.done():
            await asyncio.shield(self._flushing)

    async def close(self) -> None:
        """A clean stop: what is buffered and a last checkpoint, so the next start replays nothing."""
        await self.join()
        await self.flush(force_checkpoint=True)


def _first_line(exc: BaseException, limit: int) -> str:
    text = str(exc)
    return text.splitlines()[0][:limit] if text else ""


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background flush failed", exc_info=task.exception())
