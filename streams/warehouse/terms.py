"""Write the sources' terms (kind, setup, cost model, SLA) and the call types from the engine configuration to
`source_terms` and `call_type_dim`.

Only loading; the cost and SLA figures themselves are computed in `sql/dashboards` from the engine's counters.
"""

from __future__ import annotations

import time

from clickhouse_connect.driver.client import Client

from streams.engine.config import EngineConfig

COLUMNS = [
    "tenant", "source", "kind", "setup", "engagement", "cost_model", "rate",
    "sla_threshold_s", "sla_target", "sla_credit", "chronic_after", "chronic_after_days", "contracted_share",
    "version",
]  # fmt: skip


def load_terms(client: Client, config: EngineConfig) -> int:
    version = time.time_ns() // 1000
    rows = []
    for tenant, terms in config.tenants.items():
        for source, t in terms.sources.items():
            kind = "in_house" if source == terms.in_house else "vendor"
            rows.append(
                [tenant, source, kind, terms.setup, terms.engagement, t.cost_model, t.rate,
                 t.sla_threshold_s, t.sla_target, t.sla_credit, t.chronic_after, t.chronic_after_days,
                 t.contracted_share, version]
            )  # fmt: skip
    if rows:
        client.insert("source_terms", rows, column_names=COLUMNS)
    call_types = [
        [tenant, call_type, label, version]
        for tenant, terms in config.tenants.items()
        for call_type, label in terms.call_types.items()
    ]
    if call_types:
        client.insert("call_type_dim", call_types, column_names=["tenant", "call_type", "label", "version"])
    return len(rows)
