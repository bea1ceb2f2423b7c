-- Every accepted canonical event as received (its wire JSON), for audit, replay and ad-hoc questions.
-- One row per (topic, partition, offset): a batch re-read after a restart replaces, never duplicates.
-- Kept 90 days after it was received (not after its event time: a replay of last year's log must not
-- vanish on insert); change with: alter table acd_events modify ttl toDateTime(received_at) + interval N day.
create table if not exists acd_events
(
    ts               DateTime64(3, 'UTC'),
    tenant           LowCardinality(String),
    type             LowCardinality(String),
    event_id         UUID,
    topic            LowCardinality(String),
    stream_partition UInt16,
    stream_offset    Int64,
    payload          String,
    received_at      DateTime64(3, 'UTC') default now64(3)
)
engine = ReplacingMergeTree
partition by toDate(ts)
order by (topic, stream_partition, stream_offset)
ttl toDateTime(received_at) + interval 90 day;
