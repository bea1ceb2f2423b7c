"""Load a forecast (calls and AHT per tenant, source, call type and interval) into `forecast_interval`.

From a CSV file with the header

    tenant,source,call_type,interval_start,interval_minutes,calls,aht_s

where `interval_start` is ISO-8601 with an offset (`2026-01-05T08:00:00+00:00`, or `Z`), on a multiple of
`interval_minutes` (1-1440) from midnight UTC; `calls` >= 0 (fractional: a forecast is an expectation) and
`aht_s` the mean handle time in seconds (> 0, or 0 for an interval of no calls). Every bad line is rejected with
its line number and reason and counted, never skipped silently.

The metric layer compares a forecast interval with the engine's interval that starts with it, so a forecast is
brought to the engine's width first (`at_width`): a coarser interval is spread evenly over the engine's intervals
in it, finer ones are summed into theirs (AHT weighted by calls); widths that do not nest, finer intervals that
cover only part of an engine interval, and a second line for an interval are rejected. Or derived from a
scenario's intended demand (`producers.simulator.forecast`). Only loading: the variances and the breach's cause
are figures of the metric layer (`sql/metrics`).
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
from datetime import timedelta
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
    # The file line each row came from (several lines, for rows summed from finer intervals: the first).
    lines: list[int] = field(default_factory=list)

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
        result.rows.append(row)
        result.lines.append(line)
    return result


def at_width(parsed: ForecastFile, minutes: int) -> ForecastFile:
    """The forecast at the engine's interval width of `minutes`, with the lines it cannot bring there rejected.

    Spreading a coarser interval evenly assumes the calls arrive at a constant rate within it: the forecast says
    nothing finer. Summing finer intervals needs all of them: a part would be compared with the whole interval.
    """
    result = ForecastFile(rejected=list(parsed.rejected))
    width = timedelta(minutes=minutes)
    # Finer rows per engine interval, by their width: their calls, calls x AHT, and line by start.
    finer: dict[tuple[str, str, str, datetime, int], tuple[float, float, dict[datetime, int]]] = {}
    for row, line in zip(parsed.rows, parsed.lines, strict=True):
        if row.interval_minutes == minutes:
            result.rows.append(row)
            result.lines.append(line)
        elif row.interval_minutes > minutes and row.interval_minutes % minutes == 0:
            pieces = row.interval_minutes // minutes
            for piece in range(pieces):
                start = row.interval_start + piece * width
                result.rows.append(
                    row._replace(interval_start=start, interval_minutes=minutes, calls=row.calls / pieces)
                )
                result.lines.append(line)
        elif row.interval_minutes < minutes and minutes % row.interval_minutes == 0:
            midnight = row.interval_start.replace(hour=0, minute=0, second=0, microsecond=0)
            bucket = midnight + (row.interval_start - midnight) // width * width
            key = (row.tenant, row.source, row.call_type, bucket, row.interval_minutes)
            calls, work, parts = finer.get(key, (0.0, 0.0, {}))
            if row.interval_start in parts:
                result.rejected.append(Rejected(line, f"duplicate of line {parts[row.interval_start]}"))
                continue
            finer[key] = (
                calls + row.calls,
                work + row.calls * row.aht_s,
                {**parts, row.interval_start: line},
            )
        else:
            result.rejected.append(
                Rejected(
                    line, f"interval_minutes {row.interval_minutes} does not nest with the engine's {minutes}"
                )
            )
    for (tenant, source, call_type, bucket, part_minutes), (calls, work, parts) in finer.items():
        lines = sorted(parts.values())
        needed = minutes // part_minutes
        if len(lines) != needed:
            reason = (
                f"covers {len(lines)} of the {needed} {part_minutes}-minute intervals of the engine's "
                f"{minutes}-minute interval at {bucket.isoformat()}"
            )
            result.rejected.extend(Rejected(line, reason) for line in lines)
            continue
        aht_s = work / calls if calls > 0 else 0.0
        result.rows.append(ForecastRow(tenant, source, call_type, bucket, minutes, calls, aht_s))
        result.lines.append(lines[0])
    # A line for an engine interval another line already gave (the same key, or a coarser line and finer ones
    # landing on it) is the duplicate: the earlier line stands.
    kept = ForecastFile(rejected=result.rejected)
    seen_at: dict[tuple[str, str, str, datetime], int] = {}
    for row, line in sorted(zip(result.rows, result.lines, strict=True), key=lambda pair: pair[1]):
        at = (row.tenant, row.source, row.call_type, row.interval_start)
        if at in seen_at:
            kept.rejected.append(Rejected(line, f"duplicate of line {seen_at[at]} at the engine's width"))
            continue
        seen_at[at] = line
        kept.rows.append(row)
        kept.lines.append(line)
    kept.rejected.sort(key=lambda rejected: rejected.line)
    return kept


def read_forecast_file(path: Path) -> ForecastFile:
    return read_forecast(path.read_text(encoding="utf-8-sig"))


def load_forecast(client: Client, rows: Iterable[ForecastRow]) -> int:
    """Insert the rows into `forecast_interval` (a newer load of a key replaces the older); returns the count."""
    data = [list(row) for row in rows]
    if data:
        client.insert(FORECAST.table, data, column_names=list(FORECAST.columns))
    return len(data)
