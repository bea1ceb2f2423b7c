"""Processing time, handed in: flush deadlines and "now" on live boards read an injected clock.

Event time never comes from here; it comes from the events. Tests advance a `ManualClock` instead of sleeping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()


@dataclass
class ManualClock:
    now: float = 0.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
