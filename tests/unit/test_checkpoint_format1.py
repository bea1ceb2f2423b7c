"""A worker upgraded under a running deployment restores its predecessor's checkpoints: the format-1 fixture was
written by the worker before the shared interval bookkeeping (commit e8b331a), with the rows its own restored
partitions then produced; today's partitions, restored from the same checkpoints and fed the same events, must
produce exactly those rows, versions included."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from streams.engine.config import EngineConfig
from streams.engine.config import TenantConfig
from streams.engine.format1 import is_format1
from streams.engine.overflow import CallerContact
from streams.engine.partition import KEY_LENGTH
from streams.engine.partition import AgentPartition
from streams.engine.partition import CallerPartition
from streams.engine.partition import ContactPartition
from streams.events import decode_event

FIXTURE = Path(__file__).parents[1] / "fixtures" / "checkpoints" / "format1.json.gz"


def _scenario() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(gzip.decompress(FIXTURE.read_bytes()))
    return data["scenarios"]["enterprise_routed"]


def _config() -> EngineConfig:
    tenant = "enterprise-routed-shared"
    return EngineConfig(tenants={tenant: TenantConfig(setup="enterprise_routed")}, retention_hours=6)


# Columns added since the fixture was recorded, with the values its (older) events give them (None: vendor reports).
_ADDED: dict[str, dict[str, tuple[int | None, ...] | None]] = {
    # The fixture's vendor reports carry no staffed time: NULL on every row.
    "quality_interval": {"transferred_in": (0, None), "staffed_ms": (None,)},
    # Counted from the restore on: an interval the checkpoint was taken in lacks what came before it.
    "adherence_interval": {"handling_ms": None},
}


def _rows(part: Any, into: dict[str, str]) -> None:
    for table, table_rows in part.drain().items():
        length = KEY_LENGTH.get(table, 5)
        added = _ADDED.get(table, {})
        for row in table_rows:
            assert all(values is None or getattr(row, name) in values for name, values in added.items())
            kept = tuple(value for name, value in zip(row._fields, row, strict=True) if name not in added)
            into[repr((table, *row[:length]))] = repr(kept)


@pytest.mark.parametrize("kind", ["contact", "agent"])
def test_an_event_partition_resumes_from_a_format1_checkpoint_with_the_same_rows(kind: str) -> None:
    scenario = _scenario()
    recorded = scenario["partitions"][kind]
    assert is_format1(recorded["snapshot"])
    events = [decode_event(line.encode()) for line in scenario[f"{kind}s"]]
    factory = ContactPartition if kind == "contact" else AgentPartition
    restored = factory.restore(recorded["snapshot"], _config())
    numbered = list(enumerate(events))
    rows: dict[str, str] = {}
    # The committed offset lags the checkpoint: the 100 events before it are re-read, and skipped.
    assert restored.process(numbered[recorded["half"] - 100 : recorded["half"]]).replayed == 100
    for start in range(recorded["half"], len(numbered), 400):
        restored.process(numbered[start : start + 400])
        _rows(restored, rows)
    restored.advance_idle(86_400_000)
    _rows(restored, rows)
    assert len(rows) > 50
    assert rows == recorded["rows"]


def test_the_caller_partition_resumes_from_a_format1_checkpoint_with_the_same_rows() -> None:
    scenario = _scenario()
    recorded = scenario["partitions"]["caller"]
    contacts = [CallerContact(*values) for values in scenario["callers"]]
    restored = CallerPartition.restore(recorded["snapshot"], _config())
    rows: dict[str, str] = {}
    restored.process([(i, contact) for i, contact in enumerate(contacts) if i >= recorded["half"]])
    _rows(restored, rows)
    restored.advance_idle(86_400_000 * 2)
    _rows(restored, rows)
    # (handled, repeated, window_hours, censored, version) end each row: most windows have closed.
    assert sum(bool(re.search(r", 24, 0, \d+\)$", row)) for row in rows.values()) > 20
    assert rows == recorded["rows"]
