"""Store the counters of the staffing plans `acdscope recommend` weighs and read back their figures.

Only loading and reading: each figure (cost, cost per contact, service level, abandonment, in-house share) is
defined once, in the metric layer's `recommend_figures` (sql/metrics/4_recommend.sql), with the same contract
pricing (`acd_gross_cost`) the dashboards use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clickhouse_connect.driver.client import Client

from streams.warehouse.tables import RECOMMEND_RUNS

FIGURES = (
    "cost", "cost_per_contact", "service_level", "abandon_rate", "in_house_share", "occupancy", "cost_hidden_reason",
)  # fmt: skip


def store_runs(client: Client, rows: Sequence[Sequence[Any]]) -> int:
    """Insert rows in `RECOMMEND_RUNS.columns` order; returns how many."""
    if rows:
        client.insert(
            RECOMMEND_RUNS.table, [list(row) for row in rows], column_names=list(RECOMMEND_RUNS.columns)
        )
    return len(rows)


def run_figures(client: Client, run: str) -> dict[tuple[int, int], dict[str, Any]]:
    """{(candidate, replicate): {figure: value}} of one run, NULLs as None."""
    result = client.query(
        f"select candidate, replicate, {', '.join(FIGURES)} from recommend_figures(run = {{run:String}})",
        parameters={"run": run},
    )
    return {
        (int(row[0]), int(row[1])): dict(zip(FIGURES, row[2:], strict=True)) for row in result.result_rows
    }
