"""Processing time, handed in: flush deadlines, retry back-offs and "now" on live boards read an injected clock.

Event time never comes from here; it comes from the events. Tests advance a `ManualClock` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass
class ManualClock:
    now: float = 0.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        """Time passes at once; the event loop still gets its turn, as a real sleep would give it."""
        self.now += seconds
        await asyncio.sleep(0)
