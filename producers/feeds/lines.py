"""Lines already held in memory, numbered and counted like `report.text_lines` counts a file's.

An adapter reads numbered non-blank lines either way, so a test, a fuzz target or a caller that has the text
(a webhook batch, `replay` today) fills the same `FeedReport` counts as reading the file would.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator

from producers.feeds.report import FeedReport


def held_lines(lines: Iterable[str], report: FeedReport) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line; every line counts as read, and blank ones as blank."""
    for number, raw in enumerate(lines, start=1):
        report.read += 1
        text = raw.rstrip("\r\n")
        if not text.strip():
            report.blank += 1
            continue
        yield number, text
