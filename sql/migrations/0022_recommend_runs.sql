-- The staffing plans `acdscope recommend` weighs, one row per (run, candidate, replicate, source): what each
-- source would bill on and how the customers it ended with fared. replicate 0 is the queueing estimate
-- (expected values, Erlang A per source), 1..n the simulated days of successive seeds. The figures
-- (`recommend_figures` in the metric layer) price these counters with the contracts' own `acd_gross_cost`.
-- Customers count once each, where their call ended: offered at the source that first took it, answered
-- (within the threshold from arrival, any wait before an overflow included) and abandoned where that happened.
create table if not exists recommend_runs
(
    run                 String,
    candidate           UInt32,
    replicate           UInt16,
    source              LowCardinality(String),
    kind                LowCardinality(String),
    cost_model          LowCardinality(String),
    rate                Float64,
    contracted_seats    Nullable(Float64),
    answered            Float64,
    handle_ms           Float64,
    scheduled_ms        Float64,
    on_queue_ms         Float64,
    open_ms             Float64,
    customers           Float64,
    customers_answered  Float64,
    customers_within    Float64,
    customers_abandoned Float64
)
engine = MergeTree
order by (run, candidate, replicate, source);
