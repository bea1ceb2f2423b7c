"""Event-time interval arithmetic shared by every metric.

Pure functions on aware UTC datetimes; nothing here reads a clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def interval_start(ts: datetime, minutes: int) -> datetime:
    """Floor `ts` to its interval; intervals are aligned to the UTC epoch so every worker agrees on them."""
    if ts.tzinfo is None:
        raise ValueError("interval_start needs an aware datetime")
    width_ms = minutes * 60_000
    ms = (ts - _EPOCH) // timedelta(milliseconds=1)
    return _EPOCH + timedelta(milliseconds=ms - ms % width_ms)
