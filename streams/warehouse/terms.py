"""Write the sources' terms (kind, setup, cost model, SLA, settlement) and their contract KPIs, and the call types,
from the engine configuration to `source_terms`, `contract_kpis` and `call_type_dim`.

Only loading; the cost and SLA figures themselves are computed in `sql/dashboards` from the engine's counters.
"""

from __future__ import annotations

import time

from clickhouse_connect.driver.client import Client

from streams.engine.config import LOWER_IS_BETTER
from streams.engine.config import EngineConfig
from streams.warehouse.tables import CALL_TYPES
from streams.warehouse.tables import CONTRACT_KPIS
from streams.warehouse.tables import SOURCE_TERMS


def load_terms(client: Client, config: EngineConfig) -> int:
    version = time.time_ns() // 1000
    rows = []
    kpis = []
    for tenant, terms in config.tenants.items():
        for source, t in terms.sources.items():
            kind = "in_house" if source == terms.in_house else "vendor"
            a = t.anchored
            rows.append(
                [tenant, source, kind, terms.setup, terms.engagement, t.cost_model, t.rate,
                 t.sla_threshold_s, t.sla_target, t.sla_credit, t.chronic_after, t.chronic_after_days,
                 t.contracted_share, t.contracted_seats, t.forecast_tolerance, t.billing_period, t.penalty_cap,
                 t.bonus_cap, t.earn_back_after, t.chronic_after_periods, a and a.baseline, a and a.band,
                 a and a.base_fee, a and a.above_rate, a and a.below_rate, version]
            )  # fmt: skip
            kpis += [
                [tenant, source, kpi, k.target, int(kpi in LOWER_IS_BETTER),
                 [tier.bound for tier in k.penalties], [tier.share for tier in k.penalties],
                 [tier.bound for tier in k.bonuses], [tier.share for tier in k.bonuses], version]
                for kpi, k in t.kpis.items()
            ]  # fmt: skip
    if rows:
        client.insert(SOURCE_TERMS.table, rows, column_names=list(SOURCE_TERMS.columns))
    if kpis:
        client.insert(CONTRACT_KPIS.table, kpis, column_names=list(CONTRACT_KPIS.columns))
    call_types = [
        [tenant, call_type, label, version]
        for tenant, terms in config.tenants.items()
        for call_type, label in terms.call_types.items()
    ]
    if call_types:
        client.insert(CALL_TYPES.table, call_types, column_names=list(CALL_TYPES.columns))
    return len(rows)
