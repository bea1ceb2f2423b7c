"""The one reject record every feed adapter returns: where in the input, why, and (when kept) the raw text.

Shared so replay and the dead-letter path handle rejects of every format alike.
"""

from __future__ import annotations

from dataclasses import dataclass

# What parsing one malformed line raises: bad values (ValueError, pydantic's ValidationError and
# json.JSONDecodeError are ValueErrors), missing fields and short rows (KeyError, IndexError), JSON of the wrong
# shape, such as a number where an object belongs (TypeError, AttributeError), and times beyond the platform's
# range (OverflowError, OSError). Each adapter turns these into a `Reject` for that line and reads on; anything
# else is a bug and stops the run.
MALFORMED: tuple[type[Exception], ...] = (
    ValueError, KeyError, IndexError, TypeError, AttributeError, OverflowError, OSError,
)  # fmt: skip


@dataclass(frozen=True)
class Reject:
    line: int  # 1-based line (or record) number in the input; 0 when the input has no lines
    reason: str
    text: str = ""
    source: str = ""  # the file it came from, when the input is a folder of files (pages of an API response)
