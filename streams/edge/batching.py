"""Faust with batch delivery: one await per fetched batch instead of two tasks per message.

Stock Faust hands every consumed message to the topic conductor through `wait_first(callback(message), ...)`,
which creates two tasks per message, and then through a channel queue to the agent's stream: about 13k
no-op events/s per core, a fraction of what the same aiokafka consumer fetches (bench/pipeline.py measures
both). This keeps everything Faust does well, the worker lifecycle, group membership and partition
assignment, rebalance pauses and generation checks (`Consumer.getmany`), read-offset gap tracking and
offset commits of acked messages, and replaces only that per-message dispatch: the fetch loop collects what
one `getmany` returned and awaits the app's batch handler once. The handler acks messages itself
(`Consumer.ack`) when they are safe to commit.
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


class BatchTransport(aiokafka_driver.Transport):
    Consumer = BatchConsumer


class BatchApp(faust.App):
    """A Faust app whose consumer delivers batches to `batch_handler` instead of messages to agents."""

    batch_handler: BatchHandler | None = None
    fetch_max_wait_ms: int = 100

    def _new_transport(self) -> TransportT:
        return BatchTransport(self.conf.broker_consumer, self)

    def subscribe(self, *topics: faust.TopicT) -> None:
        """Subscribe the group to these topics (what an agent's start would do)."""
        for topic in topics:
            self.topics.add(topic)
