-- Offered / answered / abandoned per stream partition, source and 15-minute interval (event time).
-- Each row is one partition's cumulative count; a re-delivered or corrected row carries a higher
-- version and replaces the older one, so re-running a batch never adds twice.
create table if not exists contact_volume_interval
(
    interval_start   DateTime64(3, 'UTC'),
    source           LowCardinality(String),
    stream_partition UInt16,
    offered          UInt64,
    answered         UInt64,
    abandoned        UInt64,
    version          Int64,
    inserted_at      DateTime64(3, 'UTC') default now64(3)
)
engine = ReplacingMergeTree(version)
partition by toDate(interval_start)
order by (interval_start, source, stream_partition);
