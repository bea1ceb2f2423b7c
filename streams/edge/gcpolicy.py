"""Garbage-collector settings for a long-running stream worker.

CPython's cyclic collector runs a young-generation pass every 700 net allocations; a worker that decodes and
buffers thousands of objects per batch spends a large share of its time there, rescanning survivors that are
freed by reference counting anyway (bench/engine.py measures the in-process pipeline with and without this).
The engines' state holds no reference cycles, so collecting rarely only delays the rare cyclic garbage, and
what is alive once the worker has started (modules, schemas, restored state) is moved out of the collector's
sight for good.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def tune_for_streaming(young: int = YOUNG_THRESHOLD) -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, old)
