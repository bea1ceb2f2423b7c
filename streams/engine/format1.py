"""Checkpoints written before the engines shared one interval bookkeeping (format 1), read into today's layout,
so a worker upgraded under a running deployment resumes from its predecessor's checkpoints exactly.

Format 1 kept a watermark, a version and the final / dirty flags inside each engine, and the counters as
positional lists; the positions are the field order of today's named counters. Pure data in, data out.
"""

from __future__ import annotations

from typing import Any


def is_format1(snapshot: dict[str, Any]) -> bool:
    return "time" not in snapshot


def _split(keys: list[list[Any]], rows: list[list[Any]], length: int) -> list[list[Any]]:
    """The flags of one table out of a set shared by several: the keys of `length` that have a row there."""
    present = {tuple(row[:length]) for row in rows}
    return [key for key in keys if len(key) == length and tuple(key) in present]


def _table(
    rows: list[list[Any]], final: list[list[Any]], dirty: list[list[Any]], length: int
) -> dict[str, Any]:
    return {
        "rows": rows,
        "final": _split(final, rows, length),
        "dirty": _split(dirty, rows, length),
        "fresh": [],
    }


def upgrade(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A format-1 partition snapshot (contact, agent or caller partition) in today's layout."""
    out: dict[str, Any] = {
        key: snapshot[key] for key in ("partition", "last_offset", "dedup") if key in snapshot
    }
    marks: dict[str, int] = {}
    if "quality" in snapshot:  # a contact partition
        quality, overflow = snapshot["quality"], snapshot["overflow"]
        marks = quality["watermarks"]
        applied = quality["version"] // 2
        counts = [[*row[:4], *row[4], row[5], row[6]] for row in quality["counters"]]
        reports = [[*row[:4], row[4]] for row in quality["reports"]]
        out["quality"] = {
            "counts": _table(counts, quality["final"], quality["dirty"], 4),
            "reports": _table(reports, quality["final"], quality["dirty"], 4),
            "legs": {"items": quality["legs"], "next_sweep": {}},
        }
        overflow_counts = [[*row[:4], *row[4], row[5]] for row in overflow["counters"]]
        targets = [[*row[:5], row[5]] for row in overflow["targets"]]
        out["overflow"] = {
            "counts": _table(overflow_counts, overflow["final"], overflow["dirty"], 4),
            "targets": _table(targets, overflow["final"], overflow["dirty_targets"], 5),
            "calls": {"items": overflow["calls"], "next_sweep": {}},
            "callers": overflow["callers"],
        }
        # Checkpoints older still have no volume: counting starts again here, as it did then.
        out["volume"] = snapshot.get("volume", {"counts": []})
    elif "adherence" in snapshot:
        applied = snapshot["adherence"]["version"]
        out["adherence"] = snapshot["adherence"]
    else:
        repeats = snapshot["repeats"]
        marks = repeats["watermarks"]
        applied = repeats["version"]
        censored = {tuple(key) for key in repeats["censored"]}
        final = [row[:4] for row in repeats["counters"] if tuple(row[:4]) not in censored]
        out["repeats"] = {
            "callers": repeats["callers"],
            "counters": repeats["counters"],
            "final": final,
            "dirty": repeats["dirty"],
            "fresh": [],
        }
    out["time"] = {"latest": snapshot["max_ts_by_tenant"], "marks": marks, "applied_offset": applied}
    return out
