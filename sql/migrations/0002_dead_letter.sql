-- Everything the pipeline could not accept, with the reason and where it came from: nothing is lost.
create table if not exists dead_letter
(
    received_at DateTime64(3, 'UTC'),
    topic       LowCardinality(String),
    stream_partition Int32,
    stream_offset    Int64,
    reason      String,
    payload     String
)
engine = ReplacingMergeTree
partition by toDate(received_at)
order by (topic, stream_partition, stream_offset);
