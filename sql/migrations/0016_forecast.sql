-- The forecast per (tenant, source, call type, interval): the calls expected and their mean handle time.
-- Loaded by `acdscope forecast FILE` (CSV, header tenant,source,call_type,interval_start,interval_minutes,calls,
-- aht_s) or derived from a scenario's intended demand (the demo); the latest load of a key wins.
create table if not exists forecast_interval
(
    tenant           LowCardinality(String),
    source           LowCardinality(String),
    call_type        LowCardinality(String),
    interval_start   DateTime64(3, 'UTC'),
    interval_minutes UInt16,
    calls            Float64,
    aht_s            Float64,
    loaded_at        DateTime64(3, 'UTC') default now64(3)
)
engine = ReplacingMergeTree(loaded_at)
order by (tenant, source, call_type, interval_start);
