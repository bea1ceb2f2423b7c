-- Per tenant and source: its kind, the tenant's delivery setup, the cost model and rate, and the SLA
-- expectation (threshold, target, credit, how many breached intervals in a row make it chronic).
-- Loaded from the engine configuration by `acdscope terms`; the latest load wins.
create table if not exists source_terms
(
    tenant          LowCardinality(String),
    source          LowCardinality(String),
    kind            LowCardinality(String),
    setup           LowCardinality(String),
    engagement      LowCardinality(String),
    cost_model      LowCardinality(String),
    rate            Float64,
    sla_threshold_s UInt16,
    sla_target      Float64,
    sla_credit      Float64,
    chronic_after   UInt32,
    chronic_after_days UInt32,
    contracted_share Nullable(Float64),
    version         Int64
)
engine = ReplacingMergeTree(version)
order by (tenant, source);
