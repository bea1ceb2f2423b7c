"""An independent count of a feed fixture's raw lines, standard library only (no project import), so a
`FeedReport` is checked against a reader that shares none of the adapters' code: how many lines the file has,
how many hold nothing, and which ones do not even parse (JSON that does not load, a CSV row shorter than its
header). An adapter may reject more lines than these (a well-formed line it cannot use), never fewer."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RawLines:
    read: int  # lines in the file
    blank: int  # lines of nothing but white space (and, in a CSV, its header)
    malformed: tuple[int, ...]  # 1-based numbers of the lines that do not parse


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8-sig").splitlines()


def json_lines(path: Path) -> RawLines:
    lines = _lines(path)
    blank = sum(1 for line in lines if not line.strip())
    malformed = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            json.loads(line)
        except ValueError:
            malformed.append(number)
    return RawLines(len(lines), blank, tuple(malformed))


def csv_rows(path: Path, delimiter: str) -> RawLines:
    """One row per line (the fixtures quote no line breaks); the header counts as blank."""
    lines = _lines(path)
    width = len(next(csv.reader(lines[:1], delimiter=delimiter)))
    blank = 1 + sum(1 for line in lines[1:] if not line.strip())
    malformed = [
        number
        for number, line in enumerate(lines[1:], start=2)
        if line.strip() and len(next(csv.reader([line], delimiter=delimiter))) < width
    ]
    return RawLines(len(lines), blank, tuple(malformed))
