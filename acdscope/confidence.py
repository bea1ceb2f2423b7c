"""Means over replicates (simulations on successive seeds) and their 95 % confidence intervals, for the tools
that answer "what if" with several seeds: `acdscope recommend` and `acdscope what-if --seeds`.

Student's t over the replicates' values: each replicate is one independent run (its own seed), so its figure
is one observation; the interval says how far the mean of that many runs may be from the long-run value.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# t(0.975, df) for df = 1..30 (any table of Student's t); beyond 30 the normal 1.96 is within 4 %.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
    2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


@dataclass(frozen=True)
class Interval:
    """A figure's mean over the replicates and the half width of its 95 % confidence interval (None: one
    replicate, or a figure with no value)."""

    mean: float | None
    half_width: float | None

    @property
    def low(self) -> float | None:
        return None if self.mean is None else self.mean - (self.half_width or 0.0)

    @property
    def high(self) -> float | None:
        return None if self.mean is None else self.mean + (self.half_width or 0.0)

    def text(self, percent: bool, digits: int = 2) -> str:
        """`mean±half` (95 %), `n/o` for a figure with no value; percentages in points."""
        if self.mean is None:
            return "n/o"
        if percent:
            spread = "" if self.half_width is None else f"±{100 * self.half_width:.1f}"
            return f"{100 * self.mean:.1f}{spread}%"
        spread = "" if self.half_width is None else f"±{self.half_width:.{digits}f}"
        return f"{self.mean:.{digits}f}{spread}"


def t975(replicates: int) -> float:
    df = replicates - 1
    return _T975[df - 1] if df <= len(_T975) else 1.96


def interval(values: Sequence[float | None]) -> Interval:
    """Mean and 95 % half width of the replicates' values; no value when any replicate has none (a figure the
    setup cannot observe is not observed in any of them)."""
    if not values or any(v is None for v in values):
        return Interval(None, None)
    known = [float(v) for v in values if v is not None]
    mean = statistics.fmean(known)
    if len(known) < 2:
        return Interval(mean, None)
    return Interval(mean, t975(len(known)) * statistics.stdev(known) / math.sqrt(len(known)))
