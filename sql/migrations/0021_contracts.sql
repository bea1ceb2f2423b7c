-- Contract settlement (`settlement` in the metric layer): how each source is billed and settled per billing
-- period. Anchored pricing's terms are NULL where the contract is not anchored; caps and earn-back NULL where
-- the contract has none.
alter table source_terms add column if not exists billing_period LowCardinality(String) default 'month' after forecast_tolerance;
alter table source_terms add column if not exists penalty_cap Nullable(Float64) after billing_period;
alter table source_terms add column if not exists bonus_cap Nullable(Float64) after penalty_cap;
alter table source_terms add column if not exists earn_back_after Nullable(UInt32) after bonus_cap;
alter table source_terms add column if not exists chronic_after_periods UInt32 default 3 after earn_back_after;
alter table source_terms add column if not exists anchored_baseline Nullable(Float64) after chronic_after_periods;
alter table source_terms add column if not exists anchored_band Nullable(Float64) after anchored_baseline;
alter table source_terms add column if not exists anchored_base_fee Nullable(Float64) after anchored_band;
alter table source_terms add column if not exists anchored_above_rate Nullable(Float64) after anchored_base_fee;
alter table source_terms add column if not exists anchored_below_rate Nullable(Float64) after anchored_above_rate;

-- The KPIs a contract holds a source to over each billing period, one row per KPI: its target, whether less is
-- better, and its penalty and bonus tiers (bound, share of the billed amount; the deepest tier reached applies).
-- Loaded with the terms by `acdscope terms` (the same version): a KPI taken out of the contract is not in the
-- latest load, so the settlement joins on the terms' own version.
create table if not exists contract_kpis
(
    tenant          LowCardinality(String),
    source          LowCardinality(String),
    kpi             LowCardinality(String),
    target          Float64,
    lower_is_better UInt8,
    penalty_bounds  Array(Float64),
    penalty_shares  Array(Float64),
    bonus_bounds    Array(Float64),
    bonus_shares    Array(Float64),
    version         Int64
)
engine = ReplacingMergeTree(version)
order by (tenant, source, kpi);
