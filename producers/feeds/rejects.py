"""The one reject record every feed adapter returns: where in the input, why, and (when kept) the raw text.

Shared so replay and the dead-letter path handle rejects of every format alike.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reject:
    line: int  # 1-based line (or record) number in the input; 0 when the input has no lines
    reason: str
    text: str = ""
