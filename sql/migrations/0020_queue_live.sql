-- Calls waiting in each source's queue now, one row per contact-events partition, the latest wins: written by
-- the worker as processing time passes (`EnginePipeline.tick`), like the RTA board. waiting = 0 clears a
-- source; oldest_queued_at is when the longest-waiting leg queued (NULL with nobody waiting); as_of is the
-- partition's event time then; a row with source '' per tenant says as of when the queue is known even when
-- nobody waits. The Now view sums partitions and takes the earliest oldest_queued_at.
create table if not exists queue_live
(
    tenant            LowCardinality(String),
    source            LowCardinality(String),
    stream_partition  UInt16,
    waiting           UInt32,
    oldest_queued_at  Nullable(DateTime64(3, 'UTC')),
    as_of             DateTime64(3, 'UTC'),
    version           UInt64
)
engine = ReplacingMergeTree(version)
order by (tenant, source, stream_partition);
