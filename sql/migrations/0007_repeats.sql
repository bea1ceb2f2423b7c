-- Repeat contacts (the FCR proxy) per (tenant, handling source, call type, interval of the first call):
-- handled calls and those whose caller called again within window_hours. FCR proxy = 1 - repeated / handled.
-- censored = 1 while the window still reaches past the watermark (the count can still grow).
create table if not exists repeat_interval
(
    tenant           LowCardinality(String),
    source           LowCardinality(String),
    call_type        LowCardinality(String),
    interval_start   DateTime64(3, 'UTC'),
    interval_minutes UInt16,
    stream_partition UInt16,
    handled          UInt64,
    repeated         UInt64,
    window_hours     UInt16,
    censored         UInt8,
    version          UInt64,
    inserted_at      DateTime64(3, 'UTC') default now64(3)
)
engine = ReplacingMergeTree(version)
partition by toYYYYMM(interval_start)
order by (tenant, source, call_type, interval_start, stream_partition);
