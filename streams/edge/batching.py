"""Faust with batch delivery: one await per fetched batch instead of two tasks per message.

Stock Faust hands every consumed message to the topic conductor through `wait_first(callback(message), ...)`,
which creates two tasks per message, and then through a channel queue to the agent's stream: about 13k
no-op events/s per core, a fraction of what the same aiokafka consumer fetches (bench/pipeline.py measures
both). This keeps everything Faust does well, the worker lifecycle, group membership and partition
assignment, rebalance pauses and generation checks (`Consumer.getmany`), read-offset gap tracking and
offset commits of acked messages, and replaces only that per-message dispatch: the fetch loop collects what
one `getmany` returned and awaits the app's batch handler once. The handler acks messages itself
(`Consumer.ack`) when they are safe to commit.

It also bounds Faust's stop (`streams.edge.shutdown`): with the broker gone, the last offset commit, the
producer's flush and aiokafka's consumer close (which first waits for its coordination task, retrying to find
a coordinator forever) each waited on the broker without end, and a SIGTERM needed a SIGKILL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from typing import cast

import faust
from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import Message
from faust.types import TransportT

from streams.edge.shutdown import StopWatchdog
from streams.edge.shutdown import bounded

log = logging.getLogger(__name__)
BatchHandler = Callable[[list[Message]], Awaitable[None]]


class BatchConsumer(aiokafka_driver.Consumer):
    """The aiokafka consumer with a batch drain (the fetch loop of `faust.transport.consumer.Consumer`)."""

    async def _drain_messages(self, fetcher: Any) -> None:  # pragma: no cover - exercised by the worker tests
        handler = cast(BatchApp, self.app).batch_handler
        if handler is None:
            raise RuntimeError(
                "BatchApp.batch_handler is not set: nothing would consume the fetched messages"
            )
        getmany = self.getmany
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        read_offset = self._read_offset
        acks_enabled_for = self.app.topics.acks_enabled_for
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                self.diag.set_flag(CONSUMER_FETCHING)
                iterator = cast(AsyncIterator[tuple[Any, Message]], getmany(timeout=1.0))
                await asyncio.sleep(0)
                if self.should_stop:
                    break
                batch: list[Message] = []
                async for tp, message in iterator:
                    offset = message.offset
                    last = read_offset[tp]
                    if last is not None and offset < last:
                        continue  # re-fetched below the read offset (a seek): already delivered
                    if last and offset - last > 1 and acks_enabled_for(message.topic):
                        await self._add_gap(tp, last + 1, offset)  # compacted or transactional holes
                    read_offset[tp] = offset
                    batch.append(message)
                self.diag.unset_flag(CONSUMER_FETCHING)
                if batch:
                    await handler(batch)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                return
            raise
        except Exception:
            log.exception("batch handler failed: the worker stops, the batch is re-read after a restart")
            raise

    def _new_consumer_thread(self) -> aiokafka_driver.AIOKafkaConsumerThread:
        return BatchConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def commit_and_end_transactions(self) -> None:
        """The commit of acked offsets at stop, bounded: with the broker gone aiokafka retries it without end.
        An offset not committed now is re-read after the restart and skipped by offset."""
        await bounded("offset commit", super().commit_and_end_transactions())


class BatchConsumerThread(aiokafka_driver.AIOKafkaConsumerThread):
    """The consumer thread, with the fetch wait taken from the app (`BatchApp.fetch_max_wait_ms`).

    Faust builds the aiokafka consumer with `fetch_max_wait_ms=1500` fixed. aiokafka keeps one fetch in flight
    per broker, and a fetch that holds only partitions with nothing new waits out that time at the broker,
    while partitions drained meanwhile cannot be fetched: on a busy worker that is a stall of up to 1.5 s
    every few batches (`make bench` measured the worker at less than half its speed with it).
    """

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Read by `AIOKafkaConsumer.start()` when it builds its fetcher, which happens after this.
        consumer._fetch_max_wait_ms = cast(BatchApp, self.app).fetch_max_wait_ms
        return consumer

    async def on_thread_stop(self) -> None:
        """aiokafka's consumer close, bounded. It waits for the group coordination task to finish its work,
        which with the broker gone (or mid-rebalance, waiting for the group to join) retries without end,
        then leaves the group; the main event loop is blocked joining this thread meanwhile. Abandoned, the
        group notices the member gone after the session timeout, as after a crash."""
        if not await bounded("consumer close", super().on_thread_stop()) and self._consumer is not None:
            # Its connections and their tasks, which the abandoned close would have closed last.
            await bounded("client close", self._consumer._client.close())


class BatchTransport(aiokafka_driver.Transport):
    Consumer = BatchConsumer


class BatchApp(faust.App):
    """A Faust app whose consumer delivers batches to `batch_handler` instead of messages to agents."""

    batch_handler: BatchHandler | None = None
    fetch_max_wait_ms: int = 100
    stop_watchdog: StopWatchdog | None = None

    def _new_transport(self) -> TransportT:
        return BatchTransport(self.conf.broker_consumer, self)

    async def on_stop(self) -> None:
        """The stop begins (SIGTERM, or the worker crashed): from now on the watchdog bounds it."""
        if self.stop_watchdog is None:
            self.stop_watchdog = StopWatchdog()
            self.stop_watchdog.start()
        await super().on_stop()

    async def _producer_flush(self, logger: Any) -> None:
        """Faust flushes the producer at stop: bounded, since with the broker gone a send in flight waits
        for it until the request timeout (minutes). A dead letter or caller outcome not delivered belongs to a
        message not acked: it is re-read and sent again after the restart."""
        await bounded("producer flush", super()._producer_flush(logger))

    def subscribe(self, *topics: faust.TopicT) -> None:
        """Subscribe the group to these topics (what an agent's start would do)."""
        for topic in topics:
            self.topics.add(topic)
