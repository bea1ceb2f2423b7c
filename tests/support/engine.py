"""A feed's events counted the way the worker counts them, for adapter tests that check the engine's view."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from streams.engine.config import EngineConfig
from streams.engine.config import TenantConfig
from streams.engine.partition import ContactPartition
from streams.events import Event


def contact_rows(events: Iterable[Event], tenant: str) -> dict[str, list[Any]]:
    """The contact events in time order through one virtualized tenant's contact partition, every interval
    closed: the rows of each table."""
    contacts = sorted((e for e in events if e.type.startswith("contact.")), key=lambda e: e.ts)
    engine = ContactPartition(0, EngineConfig(tenants={tenant: TenantConfig(setup="virtualized")}))
    engine.process(enumerate(contacts))
    engine.advance_idle(10**10)
    return engine.drain()
