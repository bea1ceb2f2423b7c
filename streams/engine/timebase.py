"""Event time as integer milliseconds since the UTC epoch, and the interval grid every metric shares: the one
definition of time in the engine.

Pure arithmetic: nothing here reads a clock. Integers, because float `timestamp()` rounds and a call at
09:14:59.9995 must never land in 09:15.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)
# Before every event time: the watermark of a tenant nothing has been seen of.
NEVER = -(2**62)


def to_ms(ts: datetime) -> int:
    return (ts - EPOCH) // MS


# The milliseconds a `datetime` can hold (years 1-9999): outside them `from_ms` fails.
FIRST_MS = to_ms(datetime.min.replace(tzinfo=UTC))
LAST_MS = to_ms(datetime.max.replace(tzinfo=UTC))


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def floor(ms: int, width_ms: int) -> int:
    """Intervals are aligned to the UTC epoch, so every worker and every partition agrees on them."""
    return ms - ms % width_ms


def interval_start(ts: datetime, minutes: int) -> datetime:
    """`floor` for an aware datetime: the start of the `minutes`-wide interval holding `ts`."""
    if ts.tzinfo is None:
        raise ValueError("interval_start needs an aware datetime")
    return from_ms(floor(to_ms(ts), minutes * 60_000))
