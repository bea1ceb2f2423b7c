"""The worker's Kafka consumer is built with the project's fetch wait, not Faust's fixed 1.5 s."""

from __future__ import annotations

import asyncio

from streams.edge.batching import BatchApp
from streams.edge.batching import BatchConsumer
from streams.edge.batching import BatchConsumerThread


def test_worker_consumer_uses_the_configured_fetch_wait() -> None:
    async def build() -> tuple[int, type]:
        app = BatchApp("test-fetch-wait", broker="kafka://127.0.0.1:1", store="memory://", web_enabled=False)
        app.fetch_max_wait_ms = 37
        consumer = app.consumer
        assert isinstance(consumer, BatchConsumer)
        thread = consumer._new_consumer_thread()
        client = thread._create_worker_consumer(app.transport)
        try:
            return client._fetch_max_wait_ms, type(thread)
        finally:
            await client.stop()  # never started: closes nothing but its unused client

    wait, thread_type = asyncio.run(build())
    assert thread_type is BatchConsumerThread
    assert wait == 37
