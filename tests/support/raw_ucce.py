"""An independent reader of Cisco UCCE Termination_Call_Detail / Route_Call_Detail CSV exports, for tests.

Standard library only and no project imports: it reads the raw columns by the schema handbook's semantics and
counts what `producers.feeds.ucce` must agree with, computed a second way (per customer call, from the
columns, with no events). Semantics: legs of a call share RouterCallKeyDay + RouterCallKey (else PeripheralID
+ PeripheralCallKey + day); customer legs are the inbound PeripheralCallTypes that did not end busy, as a
dialer/switch result, a non-voice task or a consult; trailing partial records (53) have no final record; an
answered leg's wait is LocalQTime + RingTime plus that of the unanswered legs at the same source it was
re-queued from; the call's outcome is its last customer leg's disposition.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from pathlib import Path

INBOUND = {1, 2, 3, 4, 5, 6, 25, 26}
NOT_CUSTOMER_DISPOSITIONS = {8, 9, 16, 20, 21, 22, 23, 24, 25, 26, 27, 33, 54, 56, 57, *range(35, 52)}
DOCUMENTED = set(range(1, 63))
ANSWERED_CODES = {13, 14, 52, 59, 62, 28, 29, 30, 55}
NEVER_ANSWERED = {1, 2, 3, 4, 5, 7, 10, 11, 12, 60, 61, 15, 17, 18, 31, 32, 34, 19, 58, 53}
ABANDON_CODES = {1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 19, 58, 60, 61}
REDIRECT_CODES = {15, 17, 18, 31, 32, 34}


@dataclass
class RawFigures:
    rows: int = 0  # data rows (not headers)
    rejected_lines: list[int] = field(default_factory=list)
    skipped: int = 0
    offered: int = 0  # customer calls
    answered_legs: int = 0
    answered_calls: int = 0
    abandoned: int = 0
    short: int = 0
    redirected: Counter[str] = field(default_factory=Counter)  # by outsourcer ("external" when unmapped)
    answered_wait_s: int = 0
    talk_s: int = 0
    # Service-level counters from the columns: AnsweredWithinServiceLevel, TimeToAband <= threshold.
    answered_in_sl: int = 0
    abandoned_in_sl: int = 0  # short abandons excluded, as Cisco excludes them from SL


def _n(value: str) -> int:
    value = value.strip()
    return 0 if not value or value.upper() == "NULL" else int(value)


def _text(value: str) -> str:
    value = value.strip()
    return "" if value.upper() == "NULL" else value


def _rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        table = list(csv.reader(handle))
    return table[0], [(index + 2, row) for index, row in enumerate(table[1:]) if row]


def read_raw(
    paths: list[Path],
    peripherals: dict[int, str],
    labels: dict[str, str],
    targets: dict[int, str],
    sl_threshold_s: int = 20,
) -> RawFigures:
    """`labels`: digits of an outsourcer's label -> outsourcer; `targets`: NetworkTargetID -> outsourcer."""
    figures = RawFigures()
    calls: dict[tuple[object, ...], list[dict[str, str]]] = defaultdict(list)
    routes: dict[tuple[object, ...], list[dict[str, str]]] = defaultdict(list)
    for path in paths:
        header, rows = _rows(path)
        for line, values in rows:
            figures.rows += 1
            if len(values) != len(header):
                figures.rejected_lines.append(line)
                continue
            row = dict(zip(header, values, strict=True))
            try:
                day = datetime.fromisoformat(row["DateTime"].strip()).date()
            except ValueError:
                figures.rejected_lines.append(line)
                continue
            if "CallDisposition" not in row:
                if not _n(row["RouterCallKey"]) or not _n(row["RouterCallKeyDay"]):
                    figures.rejected_lines.append(line)
                    continue
                routes[(_n(row["RouterCallKeyDay"]), _n(row["RouterCallKey"]))].append(row)
                continue
            if _n(row["CallDisposition"]) not in DOCUMENTED:
                figures.rejected_lines.append(line)
                continue
            if _n(row["RouterCallKeyDay"]) and _n(row["RouterCallKey"]):
                key: tuple[object, ...] = (_n(row["RouterCallKeyDay"]), _n(row["RouterCallKey"]))
            else:
                key = ("p", _n(row["PeripheralID"]), _n(row["PeripheralCallKey"]), day)
            calls[key].append(row)

    for key, rows_of_call in calls.items():
        customer = []
        for row in rows_of_call:
            call_type = _text(row["PeripheralCallType"])
            if (call_type and int(call_type) not in INBOUND) or _n(
                row["CallDisposition"]
            ) in NOT_CUSTOMER_DISPOSITIONS:
                figures.skipped += 1
            else:
                customer.append(row)
        customer.sort(key=lambda r: (_n(r["RouterCallKeySequenceNumber"]), r["DateTime"]))
        while customer and _n(customer[-1]["CallDisposition"]) == 53:
            customer.pop()
            figures.skipped += 1
        if not customer:
            figures.skipped += len(routes.pop(key, []))
            continue
        call_routes = routes.pop(key, [])
        figures.offered += 1
        carried = 0
        for index, row in enumerate(customer):
            code = _n(row["CallDisposition"])
            talk = max(0, _n(row["TalkTime"]))
            wait = _n(row["LocalQTime"]) + _n(row["RingTime"])
            answered = code in ANSWERED_CODES or (talk > 0 and code not in NEVER_ANSWERED)
            last = index == len(customer) - 1
            if answered:
                figures.answered_legs += 1
                figures.answered_wait_s += carried + wait
                figures.talk_s += talk
                carried = 0
                if last:
                    figures.answered_calls += 1
                    if _n(row["AnsweredWithinServiceLevel"]) == 1:
                        figures.answered_in_sl += 1
                continue
            if not last:
                following = customer[index + 1]
                same_source = peripherals.get(_n(following["PeripheralID"]), "in-house") == peripherals.get(
                    _n(row["PeripheralID"]), "in-house"
                )
                carried = carried + (_n(row["TimeToAband"]) or wait) if same_source or code == 53 else 0
                continue
            if code in REDIRECT_CODES:
                digits = "".join(ch for ch in _text(row["DigitsDialed"]) if ch.isdigit())
                to = labels.get(digits)
                for route in sorted(call_routes, key=lambda r: r["DateTime"], reverse=True):
                    route_digits = "".join(ch for ch in _text(route["Label"]) if ch.isdigit())
                    to = to or targets.get(_n(route["NetworkTargetID"])) or labels.get(route_digits)
                figures.redirected[to or "external"] += 1
            elif code in ABANDON_CODES:
                figures.abandoned += 1
                waited = _n(row["TimeToAband"]) or wait
                if code == 7:
                    figures.short += 1
                elif waited <= sl_threshold_s:
                    figures.abandoned_in_sl += 1

    for rows_of_call in routes.values():  # routing requests whose call reached no peripheral
        last = max(rows_of_call, key=lambda r: r["DateTime"])
        if _n(last["RouterErrorCode"]):
            figures.skipped += len(rows_of_call)
            continue
        figures.offered += 1
        if _text(last["Label"]) or _text(last["NetworkTargetID"]):
            target = _n(last["NetworkTargetID"])
            digits = "".join(ch for ch in _text(last["Label"]) if ch.isdigit())
            figures.redirected[targets.get(target) or labels.get(digits, "external")] += 1
        else:
            figures.abandoned += 1
    return figures
