-- Per-source quality counters per (tenant, source, call type, interval of queue entry), one row per stream
-- partition (or per vendor report). Every service-level variant, ASA, abandonment, AHT, transfer rate, QA and
-- CSAT is a ratio of these sums, computed in sql/dashboards. NULL = not observable in the tenant's setup,
-- with the reason in hidden_reason; a newer version of a key replaces the older one.
create table if not exists quality_interval
(
    tenant            LowCardinality(String),
    source            LowCardinality(String),
    call_type         LowCardinality(String),
    interval_start    DateTime64(3, 'UTC'),
    interval_minutes  UInt16,
    stream_partition  UInt16,
    observed_via      LowCardinality(String),
    offered           UInt64,
    answered          UInt64,
    abandoned         UInt64,
    short_abandoned   Nullable(UInt64),
    thresholds_s      Array(UInt16),
    answered_within   Array(Nullable(UInt64)),
    abandoned_within  Array(Nullable(UInt64)),
    wait_answered_ms  Nullable(UInt64),
    wait_abandoned_ms Nullable(UInt64),
    handled           UInt64,
    handle_ms         UInt64,
    talk_ms           Nullable(UInt64),
    hold_ms           Nullable(UInt64),
    acw_ms            Nullable(UInt64),
    transferred       Nullable(UInt64),
    overflowed_out    Nullable(Int64),
    qa_sum            Nullable(Float64),
    qa_count          Nullable(UInt64),
    csat_sum          Nullable(UInt64),
    csat_count        Nullable(UInt64),
    hidden_reason     String,
    is_final          UInt8,
    version           UInt64,
    inserted_at       DateTime64(3, 'UTC') default now64(3)
)
engine = ReplacingMergeTree(version)
partition by toYYYYMM(interval_start)
order by (tenant, source, call_type, interval_start, observed_via, stream_partition);

-- Customer calls arriving at the enterprise ACD per (tenant, primary source, call type, arrival interval):
-- overflow by trigger, wait before overflow, redirect hand-offs, end-to-end service level from first enqueue.
-- e2e_* count the outcomes the setup shows; e2e_hidden those it hides (enterprise-routed redirects): an
-- interval's end-to-end service level is NULL when sum(e2e_hidden) > 0.
create table if not exists overflow_interval
(
    tenant                LowCardinality(String),
    primary_source        LowCardinality(String),
    call_type             LowCardinality(String),
    interval_start        DateTime64(3, 'UTC'),
    interval_minutes      UInt16,
    stream_partition      UInt16,
    arrived               UInt64,
    overflowed            Nullable(UInt64),
    overflowed_timeout    Nullable(UInt64),
    overflowed_split      Nullable(UInt64),
    overflowed_call_type  Nullable(UInt64),
    overflow_wait_ms      Nullable(UInt64),
    redirect_accepted     Nullable(UInt64),
    redirect_failed       Nullable(UInt64),
    redirect_returned     Nullable(UInt64),
    thresholds_s          Array(UInt16),
    e2e_answered          UInt64,
    e2e_answered_within   Array(UInt64),
    e2e_abandoned         UInt64,
    e2e_wait_answered_ms  UInt64,
    e2e_hidden            UInt64,
    hidden_reason         String,
    is_final              UInt8,
    version               UInt64,
    inserted_at           DateTime64(3, 'UTC') default now64(3)
)
engine = ReplacingMergeTree(version)
partition by toYYYYMM(interval_start)
order by (tenant, primary_source, call_type, interval_start, stream_partition);

-- Calls sent to each vendor per trigger: the actual split, compared with contracted shares in SQL.
create table if not exists overflow_target_interval
(
    tenant           LowCardinality(String),
    primary_source   LowCardinality(String),
    to_source        LowCardinality(String),
    interval_start   DateTime64(3, 'UTC'),
    interval_minutes UInt16,
    stream_partition UInt16,
    trigger          LowCardinality(String),
    overflowed       UInt64,
    is_final         UInt8,
    version          UInt64,
    inserted_at      DateTime64(3, 'UTC') default now64(3)
)
engine = ReplacingMergeTree(version)
partition by toYYYYMM(interval_start)
order by (tenant, primary_source, to_source, interval_start, trigger, stream_partition);
