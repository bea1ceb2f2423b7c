-- Engine state per (worker app, topic, partition), written in the same flush as the rows it has produced and
-- after them; offsets are committed only up to the last checkpoint, so a restarted worker restores this,
-- re-reads from the committed offset and skips what the checkpoint already counted.
create table if not exists engine_checkpoint
(
    app_id           LowCardinality(String),
    topic            LowCardinality(String),
    stream_partition UInt16,
    last_offset      Int64,
    snapshot         String,
    version          Int64,
    created_at       DateTime64(3, 'UTC') default now64(3)
)
engine = ReplacingMergeTree(version)
order by (app_id, topic, stream_partition);
