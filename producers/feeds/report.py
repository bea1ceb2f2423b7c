"""What one replayed input accounts for: every line (or record) read is accepted, skipped or rejected.

One report for every feed format, filled by its adapter, so `acdscope replay` prints the same summary for all
of them and a test can check the identity `read == blank + accepted + skipped + rejected` against an
independent reader of the raw file. A line dropped without a count would break the identity, which is the
point: nothing leaves a feed unreported.

- *read*: the input's units, lines for line formats and records for JSON documents (`unit` names which);
- *blank*: units that hold nothing (empty lines, a CSV header, a page's envelope);
- *accepted*: units that became canonical events (or were folded into a later record of the same call);
- *skipped*: units that are well formed but carry no contact-center fact ("not a call event"), by kind;
- *rejected*: malformed units, each kept with its number, reason and raw text (`--rejects FILE` writes them);
- *corrections*: repairs made to accepted units (a clock overlap clamped, a separator re-split), by kind; a
  correction never changes a count above, it says what was altered on the way.
- *observed*: facts an accepted unit holds that no canonical event carries (an agent who rang and did not
  answer before another answered), by kind, so they are reported rather than lost.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import IO

from producers.feeds.rejects import Reject

# A reason's kind is its text with the specifics taken out: quoted values, ids and numbers, so the 300 lines
# rejected for "conversation 'c-17': no participants" group under one reason with the first line number.
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\b[0-9a-f]{8}-[0-9a-f-]{27}\b|\d+(?:\.\d+)?")


def reason_kind(reason: str) -> str:
    return _NUMBER.sub("N", _QUOTED.sub("…", reason))[:200]


@dataclass(frozen=True)
class ReasonCount:
    reason: str  # the reason's kind (see `reason_kind`)
    count: int
    first_line: int
    example: str  # the first reject's full reason
    first_source: str = ""  # the file of the first, when the input is a folder


@dataclass
class FeedReport:
    fmt: str
    unit: str = "line"
    read: int = 0
    blank: int = 0
    accepted: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    corrections: Counter[str] = field(default_factory=Counter)
    observed: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)  # canonical events produced, by type
    rejects: list[Reject] = field(default_factory=list)
    files: int = 0  # input files read (a folder of pages holds several)

    def reject(self, line: int, reason: str, text: str = "", source: str = "") -> Reject:
        reject = Reject(line, reason, text, source)
        self.rejects.append(reject)
        return reject

    def skip(self, kind: str, count: int = 1) -> None:
        self.skipped[kind] += count

    def correct(self, kind: str, count: int = 1) -> None:
        self.corrections[kind] += count

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    @property
    def unaccounted(self) -> int:
        """Units read that are in no count: 0 when the adapter reported every one (tests assert it)."""
        return self.read - self.blank - self.accepted - sum(self.skipped.values()) - self.rejected

    def reasons(self) -> list[ReasonCount]:
        """Rejects grouped by the kind of reason, most frequent first, each with its first line number."""
        groups: dict[str, list[Reject]] = {}
        for reject in self.rejects:
            groups.setdefault(reason_kind(reject.reason), []).append(reject)
        ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), item[1][0].line))
        return [
            ReasonCount(kind, len(group), group[0].line, group[0].reason, group[0].source)
            for kind, group in ranked
        ]

    def write_rejects(self, out: IO[str], source: Path | str) -> int:
        """Every reject as one JSON line: file, line number, reason and the raw text."""
        for reject in self.rejects:
            record = {"file": reject.source or str(source), "format": self.fmt, "line": reject.line, "reason": reject.reason,
                      "text": reject.text}  # fmt: skip
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return self.rejected


@dataclass(frozen=True)
class FeedOptions:
    """What a reader may need besides the file: the tenant of its events, the key that hashes caller numbers
    (no raw number leaves an adapter), and a column mapping for the formats that take one (csv)."""

    tenant: str = "default"
    caller_key: bytes = b""
    mapping: Path | None = None


def input_files(path: Path) -> list[Path]:
    """A file, or a folder's files in name order (the pages of an API response saved one per file)."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    return [path]


def text_lines(path: Path, report: FeedReport) -> Iterator[tuple[int, str]]:
    """(line number, text without the line end) of a file, streamed; counts every line read, and blank lines as
    blank, so an adapter over lines only counts what it accepts, skips or rejects. A UTF-8 byte-order mark (as
    Windows exports write) is dropped; bytes that are not UTF-8 are replaced, and the line is then the
    adapter's to reject."""
    report.files += 1
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as lines:
        yield from held_lines(lines, report)


def held_lines(lines: Iterable[str], report: FeedReport) -> Iterator[tuple[int, str]]:
    """The same for lines already in memory (a webhook batch, a test, a fuzz target): the same counts as
    reading them from a file would give."""
    for number, raw in enumerate(lines, start=1):
        report.read += 1
        text = raw.rstrip("\r\n")
        if not text.strip():
            report.blank += 1
            continue
        yield number, text
