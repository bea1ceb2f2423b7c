-- Adherence and conformance counters per agent and interval (ms), one row per agent-events partition.
-- adherence = max(0, 1 - sum(exception_ms) / sum(scheduled_ms)); conformance = sum(worked_on_queue_ms) /
-- sum(scheduled_on_queue_ms). Rows re-emitted for the same offset carry the same version: the later insert wins.
create table if not exists adherence_interval
(
    interval_start        DateTime64(3, 'UTC'),
    tenant                LowCardinality(String),
    source                LowCardinality(String),
    team                  LowCardinality(String),
    agent_id              String,
    stream_partition      UInt16,
    scheduled_ms          UInt64,
    exception_ms          UInt64,
    in_adherence_ms       UInt64,
    out_of_adherence_ms   UInt64,
    unscheduled_ms        UInt64,
    unknown_ms            UInt64,
    scheduled_on_queue_ms UInt64,
    worked_on_queue_ms    UInt64,
    version               UInt64,
    inserted_at           DateTime64(3, 'UTC') default now64(3)
)
engine = ReplacingMergeTree(version)
partition by toYYYYMM(interval_start)
order by (tenant, source, team, agent_id, interval_start, stream_partition);

-- The real-time adherence board: one row per agent, the latest wins. is_out = 0 clears an agent.
create table if not exists adherence_live
(
    tenant       LowCardinality(String),
    agent_id     String,
    source       LowCardinality(String),
    team         LowCardinality(String),
    is_out       UInt8,
    since        Nullable(DateTime64(3, 'UTC')),
    duration_ms  UInt64,
    severe       UInt8,
    activity     LowCardinality(String),
    state        LowCardinality(String),
    impact       LowCardinality(String),
    as_of        DateTime64(3, 'UTC'),
    version      UInt64
)
engine = ReplacingMergeTree(version)
order by (tenant, agent_id);
