"""Reading the engine's tables back for comparison with the simulator's truth (partitions summed)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from streams.engine.quality import QualityRow
from streams.engine.timebase import to_ms

TARGET_INDEX = 1  # thresholds (10, 20, 30, 60): the 20 s service target
THRESHOLDS = [10, 20, 30, 60]  # the engine's default service-level thresholds


def quality_row(tenant: str, source: str, start: datetime, **figures: Any) -> QualityRow:
    """A hand-made `quality_interval` row: the events path's 15-minute row of billing calls, every counter 0
    (a report's staffed time NULL, as on events), final, version 1, but for `figures`, given by name so that a
    column added to the row does not shift the others."""
    counters = {name: 0 for name in QualityRow._fields}
    return QualityRow(**{
        **counters, "tenant": tenant, "source": source, "call_type": "billing", "interval_start": start,
        "interval_minutes": 15, "observed_via": "events", "thresholds_s": list(THRESHOLDS),
        "answered_within": [0] * len(THRESHOLDS), "abandoned_within": [0] * len(THRESHOLDS), "qa_sum": 0.0,
        "staffed_ms": None, "hidden_reason": "", "is_final": 1, "version": 1, **figures,
    })  # fmt: skip


# What a vendor's interval report does not carry: NULL on its rows (`streams.engine.quality`'s `_report_row`).
UNREPORTED = ("short_abandoned", "wait_answered_ms", "wait_abandoned_ms", "talk_ms", "hold_ms", "acw_ms",
              "transferred", "transferred_in", "overflowed_out", "qa_sum", "qa_count", "csat_sum", "csat_count")  # fmt: skip


def report_row(tenant: str, source: str, start: datetime, hidden_reason: str, **figures: Any) -> QualityRow:
    """A row as the engine writes a vendor's interval report: what it does not carry NULL, the service level only
    at the 20 s it reports (`answered_within_20s`), the reason the setup hides the rest, then `figures`."""
    within = figures.pop("answered_within_20s")
    return quality_row(
        tenant, source, start, observed_via="vendor_report", answered_within=[None, within, None, None],
        abandoned_within=[None] * len(THRESHOLDS), hidden_reason=hidden_reason, **dict.fromkeys(UNREPORTED),
        **figures,
    )  # fmt: skip


_QUALITY = ("offered", "answered", "abandoned", "answered_within", "wait_answered_ms", "talk_ms", "hold_ms",
            "acw_ms", "handled", "transferred", "transferred_in", "overflowed_out", "qa_count", "qa_sum",
            "csat_count", "csat_sum", "handle_ms", "staffed_ms")  # fmt: skip


def quality_from_warehouse(client: Any) -> dict[str, dict[tuple[str, str, int], dict[str, Any]]]:
    """Every counter the truth has (`tests.support.expected.expected_quality`), NULL kept as NULL."""
    result = client.query(
        f"select tenant, source, call_type, interval_start, observed_via, hidden_reason, {', '.join(_QUALITY)}"
        " from quality_interval final"
    )
    got: dict[str, dict[tuple[str, str, int], dict[str, Any]]] = defaultdict(dict)
    for tenant, source, call_type, start, via, reason, *counters in result.result_rows:
        key = (source, call_type, to_ms(start))
        values = dict(zip(_QUALITY, counters, strict=True))
        values["answered_within_target"] = values.pop("answered_within")[TARGET_INDEX]
        if via == "vendor_report":
            assert reason, "a figure hidden by the setup must say why"
        else:
            # The truth has them only where reports carry them; event rows leave staffed time NULL.
            assert values.pop("staffed_ms") is None
            del values["handle_ms"]
        row = got[tenant].setdefault(key, {"observed_via": via, **dict.fromkeys(values)})
        for name, value in values.items():
            if value is not None:
                row[name] = (row[name] or 0) + value  # partitions of the stream are summed
        if row["qa_sum"] is not None:
            row["qa_sum"] = round(row["qa_sum"], 6)
    return got


def overflow_from_warehouse(client: Any) -> dict[str, dict[tuple[str, int], dict[str, Any]]]:
    result = client.query(
        "select tenant, call_type, interval_start, arrived, overflowed, overflowed_timeout, overflowed_split,"
        " overflowed_call_type, overflow_wait_ms, e2e_answered, e2e_answered_within, e2e_abandoned, e2e_hidden"
        " from overflow_interval final"
    )
    got: dict[str, dict[tuple[str, int], dict[str, Any]]] = defaultdict(dict)
    for (tenant, call_type, start, arrived, overflowed, timeout, split, by_type, wait, e2e_answered, within,
         e2e_abandoned, hidden) in result.result_rows:  # fmt: skip
        row = got[tenant].setdefault((call_type, to_ms(start)), defaultdict(int))
        row["arrived"] += arrived
        for name, value in (
            ("overflowed", overflowed), ("overflowed_timeout", timeout), ("overflowed_split", split),
            ("overflowed_call_type", by_type), ("overflow_wait_ms", wait), ("e2e_answered", e2e_answered),
            ("e2e_abandoned", e2e_abandoned), ("e2e_hidden", hidden),
        ):  # fmt: skip
            row[name] += value or 0
        row["e2e_answered_within_target"] += within[TARGET_INDEX]
    return {
        tenant: {k: {n: v for n, v in r.items() if v} for k, r in rows.items()}
        for tenant, rows in got.items()
    }


def assert_same(got: dict[Any, Any], expected: dict[Any, Any], what: str) -> None:
    """Equality, with a readable account of the first differences when it fails."""
    if got == expected:
        return
    lines = []
    for key in sorted(set(got) | set(expected), key=repr):
        a, b = got.get(key), expected.get(key)
        if a != b:
            if a is None or b is None:
                lines.append(f"{key}: warehouse {a} / truth {b}")
            else:
                fields = {n: (a.get(n), b.get(n)) for n in set(a) | set(b) if a.get(n) != b.get(n)}
                lines.append(f"{key}: (warehouse, truth) {fields}")
        if len(lines) == 8:
            break
    raise AssertionError(
        f"{what} differs in {sum(got.get(k) != expected.get(k) for k in set(got) | set(expected))} keys:\n"
        + "\n".join(lines)
    )
