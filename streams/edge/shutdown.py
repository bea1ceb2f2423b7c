"""How long a stopping worker may take, and what ends it when a step overruns.

A worker told to stop (SIGTERM) has `STOP_DEADLINE_S` to go. Each step of Faust's stop that waits on a server
is bounded by its share of it (`STEP_BUDGETS_S`): the last checkpoint (ClickHouse), the producer's flush, the
consumer's last offset commit and its leaving the group (Kafka). A step that overruns is abandoned with a log
line. Past the deadline a watchdog thread ends the process, whatever holds it: a blocking call on the event
loop, a thread joined at exit. Neither loses anything: an offset is committed only once a written checkpoint
covers it, so what the stop did not finish is re-read after the restart and skipped by offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import logging
import os
import threading
from collections.abc import Awaitable
from collections.abc import Callable

log = logging.getLogger(__name__)

# Under the 10 s an orchestrator typically allows before SIGKILL (and the test's bound), with room for the
# event loop's own close (mode's worker sleeps about 2 s in it).
STOP_DEADLINE_S = 8.5
STEP_BUDGETS_S = {
    "final checkpoint": 2.0,
    "producer flush": 1.0,
    "offset commit": 1.0,
    "consumer close": 1.5,
    "client close": 0.5,
}
FORCED_EXIT_CODE = 1


async def bounded(step: str, work: Awaitable[object]) -> bool:
    """`work`, given up after the step's share of the stop deadline (`STEP_BUDGETS_S`). Whether it finished.

    At stop, a step that fails is reported and the stop carries on: what it did not do is redone after the
    restart. Only a cancel of the stop itself propagates."""
    budget = STEP_BUDGETS_S[step]
    try:
        await asyncio.wait_for(work, timeout=budget)
    except TimeoutError:
        log.warning("stop: %s gave up after %.1f s (a server is unreachable?); carrying on", step, budget)
        return False
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        # aiokafka's close lets a cancelled fetch's CancelledError out; it is not this stop being cancelled.
        log.warning("stop: %s ended cancelled; carrying on", step)
        return False
    except Exception as exc:
        log.warning("stop: %s failed (%s: %s); carrying on", step, type(exc).__name__, exc)
        return False
    return True


class StopWatchdog:
    """Started when the stop begins; `exit` is called with `FORCED_EXIT_CODE` if the process still runs
    `deadline_s` later. A daemon thread: it never keeps the process alive itself."""

    def __init__(self, deadline_s: float = STOP_DEADLINE_S, exit: Callable[[int], object] = os._exit) -> None:
        self.deadline_s = deadline_s
        self._exit = exit
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.fired = False

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="stop-watchdog", daemon=True)
            self._thread.start()

    def cancel(self) -> None:
        """The stop finished (used by tests; a real worker simply exits)."""
        self._done.set()

    def _watch(self) -> None:
        if self._done.wait(self.deadline_s):
            return
        self.fired = True
        log.critical(
            "stop did not finish in %.1f s; exiting now (the threads' stacks follow). Offsets not covered by a"
            " written checkpoint were not committed: the next start re-reads them",
            self.deadline_s,
        )
        # The process's own stderr (descriptor 2): Faust swaps `sys.stderr` for a logging proxy without one.
        with contextlib.suppress(Exception):  # a closed stderr must not stop the exit
            faulthandler.dump_traceback(file=2, all_threads=True)
        self._exit(FORCED_EXIT_CODE)
