"""The Now view's dashboard (`live_now`) and the page's tenant list on hand-made rows in embedded ClickHouse
(chDB): every agent count worked out by hand from the state events below, hidden agents NULL with a reason
(never 0), the calls waiting and the oldest wait from the live queue, NULL with a reason where not seen. No
servers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from acdscope.dashboards import run
from acdscope.demo import embedded_warehouse
from acdscope.webpage import tenants
from streams.engine.adherence import AdherenceRow
from streams.engine.config import EngineConfig
from streams.engine.config import SourceTerms
from streams.engine.config import TenantConfig
from streams.warehouse.sink import clickhouse_writer
from streams.warehouse.tables import TABLES
from streams.warehouse.tables import LiveRow
from streams.warehouse.tables import QueueLiveRow
from streams.warehouse.terms import load_terms
from tests.support.warehouse import quality_row

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WINDOW = {"from": datetime(2026, 1, 5, tzinfo=UTC), "until": datetime(2026, 1, 6, tzinfo=UTC)}


def state(
    offset: int, at: datetime, kind: str, agent_id: str, source: str, tenant: str = "v"
) -> tuple[Any, ...]:
    """An `acd_events` row of an agent state event, as the pipeline keeps it (its wire JSON)."""
    payload = {"type": f"agent.{kind}", "ts": at.isoformat(), "tenant": tenant, "agent_id": agent_id,
               "source": source, "team": "t1"}  # fmt: skip
    return (at, tenant, f"agent.{kind}", uuid.uuid4(), "agent-events", 0, offset, json.dumps(payload))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data: Path = tmp_path_factory.mktemp("live-now") / "chdb"
    with embedded_warehouse(data) as client:
        load_terms(client, EngineConfig(tenants={
            "v": TenantConfig(setup="virtualized", engagement="shared",
                              sources={"in-house": SourceTerms(), "vendor-a": SourceTerms()}),
            "e": TenantConfig(setup="enterprise_routed", engagement="shared",
                              sources={"in-house": SourceTerms(), "vendor-a": SourceTerms()}),
        }))  # fmt: skip
        write = clickhouse_writer(client)
        write("quality_interval", TABLES["quality_interval"].columns, [
            quality_row("v", "in-house", T0, offered=10, answered=8, abandoned=2, answered_within=[0, 6, 8, 8]),
            quality_row("v", "in-house", T0 + timedelta(minutes=15), offered=10, answered=10, is_final=0,
                        answered_within=[0, 10, 10, 10]),
            quality_row("v", "vendor-a", T0, offered=4, answered=4, answered_within=[0, 4, 4, 4]),
            # e: the vendor's agents are not seen (its report carries the calls only).
            quality_row("e", "in-house", T0, offered=6, answered=6, answered_within=[0, 6, 6, 6]),
            quality_row("e", "vendor-a", T0, offered=3, answered=3, answered_within=[0, 3, 3, 3],
                        observed_via="vendor_report", hidden_reason="enterprise-routed: hidden"),
        ])  # fmt: skip
        # v's agents are seen (the engine's adherence rows): its staffing is observable.
        write("adherence_interval", TABLES["adherence_interval"].columns, [
            AdherenceRow(interval_start=T0, tenant="v", source=source, team="t1", agent_id=agent_id,
                         stream_partition=0, scheduled_ms=900_000, exception_ms=0, in_adherence_ms=900_000,
                         out_of_adherence_ms=0, unscheduled_ms=0, unknown_ms=0, scheduled_on_queue_ms=900_000,
                         worked_on_queue_ms=900_000, handling_ms=0, version=1)
            for source, agent_id in (("in-house", "a1"), ("vendor-a", "b1"))
        ])  # fmt: skip
        at = T0 + timedelta(minutes=20)
        write("acd_events", TABLES["acd_events"].columns, [
            # a1: a login and a ready in the same ms; the later one on the stream wins: available.
            state(1, at, "login", "a1", "in-house"), state(2, at, "ready", "a1", "in-house"),
            # a2: ready, then on a contact: busy (on queue). a3: on a contact, then in wrap-up: busy.
            state(3, at, "ready", "a2", "in-house"), state(4, at + timedelta(seconds=5), "on_contact", "a2", "in-house"),
            state(5, at, "on_contact", "a3", "in-house"), state(6, at + timedelta(seconds=9), "acw", "a3", "in-house"),
            # a4: a login alone is not ready; a5: not ready; a6: logged out (not counted).
            state(7, at, "login", "a4", "in-house"), state(8, at, "not_ready", "a5", "in-house"),
            state(9, at, "ready", "a6", "in-house"), state(10, at + timedelta(minutes=1), "logout", "a6", "in-house"),
            # b1: the vendor's agent, ready; after the window ends it logs out, which the window does not see.
            state(11, at, "ready", "b1", "vendor-a"), state(12, WINDOW["until"], "logout", "b1", "vendor-a"),
            # Another tenant's agent is not this tenant's.
            state(13, at, "ready", "x1", "in-house", tenant="e"),
        ])  # fmt: skip
        # v's live queue: 2 legs on partition 0 (the oldest queued 95 s before its as_of), 1 on partition 1
        # (as of 2 s later), partition 2 cleared; its vendor has nobody waiting, so no row at all.
        write("queue_live", TABLES["queue_live"].columns, [
            QueueLiveRow("v", "in-house", 0, 2, at - timedelta(seconds=95), at, 1),
            QueueLiveRow("v", "in-house", 1, 1, at - timedelta(seconds=30), at + timedelta(seconds=2), 1),
            QueueLiveRow("v", "in-house", 2, 0, None, at, 1),
        ])  # fmt: skip
        write("adherence_live", TABLES["adherence_live"].columns, [
            LiveRow("v", "a5", "in-house", "t1", 1, at, 600_000, 1, "on_queue", "not_ready", "negative", at, 1),
            LiveRow("v", "a4", "in-house", "t1", 0, None, 0, 0, "", "", "", at, 2),  # cleared: not out
        ])  # fmt: skip
        yield client


def rows(client: Any, tenant: str, **window: datetime) -> dict[str, dict[str, Any]]:
    result = run(client, "live_now", {"tenant": tenant, **WINDOW, **window})
    return {row[0]: dict(zip(result.columns, row, strict=True)) for row in result.rows}


def test_agents_now_are_counted_from_their_latest_state(warehouse: Any) -> None:
    now = rows(warehouse, "v")
    in_house, vendor = now["in-house"], now["vendor-a"]
    assert (in_house["agents_on_queue"], in_house["agents_available"], in_house["agents_busy"]) == (3, 1, 2)
    assert in_house["agents_not_ready"] == 2
    assert in_house["agents_hidden_reason"] == ""
    assert in_house["out_of_adherence"] == 1
    assert in_house["severe_out"] == 1
    assert (vendor["agents_on_queue"], vendor["agents_available"], vendor["out_of_adherence"]) == (1, 1, 0)
    # The service level and abandonment so far are the period row's: 16 of 20 within the threshold, 2 lost.
    assert (in_house["offered"], in_house["service_level"], in_house["abandon_rate"]) == (20, 0.8, 0.1)


def test_agents_are_as_of_the_window_end(warehouse: Any) -> None:
    """Before a6 logged out it was on queue; before anyone's first event, nobody is seen."""
    early = rows(warehouse, "v", until=T0 + timedelta(minutes=20, seconds=3))
    # a1, a2 and a6 ready, a3 on its contact (a2's contact 2 s later, a6's logout a minute later).
    assert (early["in-house"]["agents_on_queue"], early["in-house"]["agents_available"]) == (4, 3)
    assert early["in-house"]["agents_busy"] == 1
    before = rows(warehouse, "v", until=T0 + timedelta(minutes=15))
    assert before["in-house"]["agents_on_queue"] is None
    assert (
        before["in-house"]["agents_hidden_reason"] == "no agent state events of in-house before this moment"
    )


def test_hidden_agents_and_unobservable_figures_are_null_with_a_reason(warehouse: Any) -> None:
    now = rows(warehouse, "e")
    vendor = now["vendor-a"]
    assert vendor["agents_on_queue"] is None
    assert vendor["agents_available"] is None
    assert vendor["out_of_adherence"] is None
    assert "vendor-a" in vendor["agents_hidden_reason"]
    assert now["in-house"]["agents_on_queue"] == 1  # e's own agent x1
    # e: its vendor's queue is hidden by the setup; its own, because no worker has written a live queue.
    assert vendor["calls_waiting"] is None
    assert vendor["calls_waiting_hidden_reason"].startswith(
        "enterprise_routed: the vendor's queue is not seen"
    )
    assert now["in-house"]["calls_waiting"] is None
    assert now["in-house"]["oldest_wait_s"] is None
    assert now["in-house"]["oldest_wait_hidden_reason"].startswith("no live queue from the worker yet")


def test_calls_waiting_and_the_oldest_wait_from_the_live_queue(warehouse: Any) -> None:
    """Summed over partitions: 2 + 1 + 0 legs; the oldest queued at 20:00 - 95 s, read as of the latest
    partition's moment (2 s later): 97 s. The vendor's queue is seen and empty: 0 and 0, not n/o."""
    now = rows(warehouse, "v")
    assert (now["in-house"]["calls_waiting"], now["in-house"]["oldest_wait_s"]) == (3, 97.0)
    assert (now["vendor-a"]["calls_waiting"], now["vendor-a"]["oldest_wait_s"]) == (0, 0)
    assert now["in-house"]["calls_waiting_hidden_reason"] == ""
    # A period that ends before the live queue's moment does not show it as its own.
    earlier = rows(warehouse, "v", until=T0 + timedelta(minutes=19))["in-house"]
    assert earlier["calls_waiting"] is None
    assert "outside this period" in earlier["calls_waiting_hidden_reason"]


def test_the_tenant_list_gives_each_tenants_span_and_its_interval_in_progress(warehouse: Any) -> None:
    result = tenants(warehouse)
    listed = {row[0]: dict(zip(result.columns, row, strict=True)) for row in result.rows}
    assert set(listed) == {"v", "e"}
    assert listed["v"]["latest_interval"] == T0 + timedelta(minutes=15)
    assert listed["v"]["in_progress"] == T0 + timedelta(minutes=15)
    assert listed["e"]["first_interval"] == T0
    assert listed["e"]["in_progress"] is None  # every row final
