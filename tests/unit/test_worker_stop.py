"""Waiting for ClickHouse and stopping, without servers: the retry loop on an injected clock, blocking calls in
daemon threads that a cancel abandons at once, each step of Faust's stop bounded, and the watchdog that ends a
stop overrunning its deadline. `test_worker_shutdown.py` runs the same against real servers."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from typing import Any

import pytest

from streams.clock import ManualClock
from streams.edge import shutdown
from streams.edge.batching import BatchApp
from streams.edge.batching import BatchConsumer
from streams.edge.commit import in_daemon_thread
from streams.edge.commit import retry_transient
from streams.edge.shutdown import FORCED_EXIT_CODE
from streams.edge.shutdown import StopWatchdog
from streams.edge.shutdown import bounded
from streams.warehouse.client import describe


@pytest.fixture
def short_budgets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutdown, "STEP_BUDGETS_S", dict.fromkeys(shutdown.STEP_BUDGETS_S, 0.2))


def test_an_unreachable_server_is_retried_with_backoff_and_a_log_line_saying_what_is_waited_for(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock()
    attempts: list[float] = []

    def connect() -> str:
        attempts.append(clock.monotonic())
        if len(attempts) < 8:
            raise ConnectionError("connection refused")
        return "client"

    async def attempt() -> str:
        return await in_daemon_thread(connect)

    with caplog.at_level(logging.INFO):
        got = asyncio.run(
            retry_transient(attempt, clock, (ConnectionError,), "ClickHouse at http://h:8123/db")
        )
    assert got == "client"
    assert [b - a for a, b in itertools.pairwise(attempts)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]
    waits = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(waits) == 7
    assert waits[0].startswith(
        "waiting for ClickHouse at http://h:8123/db: attempt 1 failed (ConnectionError"
    )
    assert "done waiting for ClickHouse at http://h:8123/db, after 7 failed attempts" in caplog.text


def test_an_error_other_than_unreachable_is_not_waited_out() -> None:
    async def attempt() -> None:
        raise PermissionError("authentication failed")

    with pytest.raises(PermissionError):
        asyncio.run(retry_transient(attempt, ManualClock(), (ConnectionError,), "ClickHouse"))


def test_a_blocking_call_runs_in_a_daemon_thread_and_its_result_or_error_comes_back() -> None:
    seen: list[threading.Thread] = []

    def call() -> int:
        seen.append(threading.current_thread())
        return 7

    def fail() -> None:
        raise ValueError("bad")

    assert asyncio.run(in_daemon_thread(call)) == 7
    assert seen[0] is not threading.main_thread()
    assert seen[0].daemon
    with pytest.raises(ValueError, match="bad"):
        asyncio.run(in_daemon_thread(fail))


def test_a_stop_does_not_wait_for_a_call_stuck_on_the_server() -> None:
    """A worker stopping while an insert hangs: the await ends at once, the daemon thread stays behind, and
    the loop closing under it is no error."""
    release = threading.Event()
    finished = threading.Event()

    def stuck() -> None:
        release.wait(30)
        finished.set()

    async def run() -> float:
        task = asyncio.create_task(in_daemon_thread(stuck))
        await asyncio.sleep(0.05)
        began = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - began

    assert asyncio.run(run()) < 0.5
    assert not finished.is_set()
    release.set()  # the thread ends after its loop closed: nothing raises
    assert finished.wait(5)


def test_a_wait_for_the_server_ends_at_once_when_the_worker_stops() -> None:
    """SIGTERM while waiting for ClickHouse: the stop cancels the wait, whichever part it is in."""

    async def never() -> None:
        raise ConnectionError("refused")

    async def run() -> float:
        task = asyncio.create_task(retry_transient(never, ManualClock(), (ConnectionError,), "ClickHouse"))
        for _ in range(50):
            await asyncio.sleep(0)
        began = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - began

    assert asyncio.run(run()) < 0.5


@pytest.mark.usefixtures("short_budgets")
def test_a_stop_step_that_overruns_is_given_up_and_one_that_fails_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def hang() -> None:
        await asyncio.sleep(60)

    async def cancelled_inside() -> None:
        raise asyncio.CancelledError

    async def fails() -> None:
        raise OSError("broker unreachable")

    async def done() -> None:
        return None

    async def run() -> list[bool]:
        return [
            await bounded("producer flush", hang()),
            await bounded("consumer close", cancelled_inside()),
            await bounded("offset commit", fails()),
            await bounded("final checkpoint", done()),
        ]

    began = time.monotonic()
    assert asyncio.run(run()) == [False, False, False, True]
    assert time.monotonic() - began < 2
    assert "stop: producer flush gave up after 0.2 s" in caplog.text
    assert "stop: offset commit failed (OSError: broker unreachable)" in caplog.text


def test_a_cancel_of_the_stop_itself_is_not_swallowed() -> None:
    async def run() -> None:
        task = asyncio.create_task(bounded("producer flush", asyncio.sleep(60)))
        await asyncio.sleep(0.01)
        task.cancel()
        await task

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(run())


@pytest.mark.usefixtures("short_budgets")
def test_the_commit_at_stop_and_the_consumer_close_do_not_wait_for_an_unreachable_broker() -> None:
    """What hung a SIGTERM after the broker went away: Faust's last offset commit and aiokafka's close both
    retry until the broker answers."""
    closed: list[str] = []

    class Client:
        async def close(self) -> None:
            closed.append("client")

    class StuckConsumer:
        _client = Client()

        async def stop(self) -> None:
            await asyncio.sleep(60)  # waiting for the coordination task: a coordinator that never answers

    async def run() -> float:
        app = BatchApp("test-stop", broker="kafka://127.0.0.1:1", store="memory://", web_enabled=False)
        consumer = app.consumer
        assert isinstance(consumer, BatchConsumer)

        async def commit(*args: Any, **kwargs: Any) -> bool:
            await asyncio.sleep(60)
            return True

        consumer.commit = commit  # type: ignore[method-assign]
        thread = consumer._new_consumer_thread()
        thread._consumer = StuckConsumer()  # type: ignore[assignment]
        began = time.monotonic()
        await consumer.commit_and_end_transactions()
        await thread.on_thread_stop()
        return time.monotonic() - began

    assert asyncio.run(run()) < 2
    assert closed == ["client"]  # its connections closed all the same


def test_the_watchdog_ends_a_stop_that_overruns_its_deadline() -> None:
    exits: list[int] = []
    watchdog = StopWatchdog(deadline_s=0.1, exit=exits.append)
    watchdog.start()
    deadline = time.monotonic() + 5
    while not exits and time.monotonic() < deadline:
        time.sleep(0.02)
    assert exits == [FORCED_EXIT_CODE]
    assert watchdog.fired


def test_the_watchdog_stays_quiet_when_the_stop_finishes_in_time() -> None:
    exits: list[int] = []
    watchdog = StopWatchdog(deadline_s=0.3, exit=exits.append)
    watchdog.start()
    watchdog.cancel()
    time.sleep(0.5)
    assert exits == []
    assert not watchdog.fired


def test_the_budgets_of_the_steps_fit_the_deadline_and_the_deadline_the_ten_seconds() -> None:
    assert sum(shutdown.STEP_BUDGETS_S.values()) + 2 < shutdown.STOP_DEADLINE_S  # mode's loop close: ~2 s
    assert shutdown.STOP_DEADLINE_S < 10


def test_a_dsn_in_a_log_line_has_no_credentials() -> None:
    assert describe("http://writer:s3cret@ch.example:8123/acd") == "http://ch.example:8123/acd"
    assert describe("chdb:///var/lib/acd") == "chdb:///var/lib/acd"
