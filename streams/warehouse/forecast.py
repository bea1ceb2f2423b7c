"""Load a forecast (calls and AHT per tenant, source, call type and interval) into `forecast_interval`.

From a CSV file with the header

    tenant,source,call_type,interval_start,interval_minutes,calls,aht_s

where `interval_start` is ISO-8601 with an offset (`2026-01-05T08:00:00+00:00`, or `Z`), on a multiple of
`interval_minutes` (1-1440) from midnight UTC; `calls` >= 0 (fractional: a forecast is an expectation) and
`aht_s` the mean handle time in seconds (> 0, or 0 for an interval of no calls). Every bad line is rejected with
its line number and reason and counted, never skipped silently; a second line for the same key is rejected too.
Or derived from a scenario's intended demand (`producers.simulator.forecast`). Only loading: the variances and
the breach's cause are figures of the metric layer (`sql/metrics`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from pathlib import Path

from clickhouse_connect.driver.client import Client

from streams.events import ForecastRow
from streams.warehouse.tables import FORECAST

HEADER = ("tenant", "source", "call_type", "interval_start", "interval_minutes", "calls", "aht_s")


@dataclass(frozen=True)
class Rejected:
    line: int  # 1-based line number in the file (the header is line 1)
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ForecastFile:
    rows: list[ForecastRow] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return len(self.rows)


class ForecastError(ValueError):
    """The file as a whole cannot be read (no header, or the wrong one)."""


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} {text!r} is not finite")
    return value


def parse_line(fields: list[str]) -> ForecastRow:
    """One data line, or ValueError with the reason."""
    if len(fields) != len(HEADER):
        raise ValueError(f"{len(fields)} fields, expected {len(HEADER)}")
    tenant, source, call_type, start_text, minutes_text, calls_text, aht_text = (f.strip() for f in fields)
    for name, value in (("tenant", tenant), ("source", source), ("call_type", call_type)):
        if not value:
            raise ValueError(f"{name} is empty")
    try:
        start = datetime.fromisoformat(start_text)
    except ValueError:
        raise ValueError(f"interval_start {start_text!r} is not ISO-8601") from None
    if start.tzinfo is None:
        raise ValueError(f"interval_start {start_text!r} has no UTC offset")
    start = start.astimezone(UTC)
    try:
        minutes = int(minutes_text)
    except ValueError:
        raise ValueError(f"interval_minutes {minutes_text!r} is not an integer") from None
    if not 1 <= minutes <= 1440:
        raise ValueError(f"interval_minutes {minutes} is not within 1-1440")
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if (start - midnight).total_seconds() % (minutes * 60) != 0:
        raise ValueError(f"interval_start {start_text!r} is not on a {minutes}-minute boundary (UTC)")
    calls = _number(calls_text, "calls")
    if calls < 0:
        raise ValueError(f"calls {calls_text!r} is negative")
    aht_s = _number(aht_text, "aht_s")
    if aht_s < 0 or (aht_s == 0 and calls > 0):
        raise ValueError(f"aht_s {aht_text!r} must be > 0 where calls are forecast")
    return ForecastRow(tenant, source, call_type, start, minutes, calls, aht_s)


def read_forecast(text: str) -> ForecastFile:
    """Parse a forecast CSV's text: every good line kept, every bad one rejected with its line and reason."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != HEADER:
        raise ForecastError(f"line 1: the header must be {','.join(HEADER)}, got {','.join(header or [])!r}")
    result = ForecastFile()
    seen: dict[tuple[str, str, str, datetime], int] = {}
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            result.rejected.append(Rejected(line, "empty line"))
            continue
        try:
            row = parse_line(fields)
        except ValueError as exc:
            result.rejected.append(Rejected(line, str(exc)))
            continue
        key = (row.tenant, row.source, row.call_type, row.interval_start)
        if key in seen:
            result.rejected.append(Rejected(line, f"duplicate of line {seen[key]} (same key)"))
            continue
        seen[key] = line
        result.rows.append(row)
    return result


def read_forecast_file(path: Path) -> ForecastFile:
    return read_forecast(path.read_text(encoding="utf-8-sig"))


def load_forecast(client: Client, rows: Iterable[ForecastRow]) -> int:
    """Insert the rows into `forecast_interval` (a newer load of a key replaces the older); returns the count."""
    data = [list(row) for row in rows]
    if data:
        client.insert(FORECAST.table, data, column_names=list(FORECAST.columns))
    return len(data)
