-- Webhook deliveries of alert transitions (`acdscope alerts-webhook`, `streams.edge.webhook`): one row per
-- idempotency key, written once the receiver answered 2xx (delivered) or refused it for good (failed: any
-- other 4xx, with its status), and before the alerts topic's offset is committed. The deliverer loads the
-- delivered keys at start, so a transition the worker published again is not POSTed again. A later outcome
-- of the same key (a failed transition published again and then delivered) carries a higher version.
create table if not exists alert_deliveries
(
    idempotency_key  String,
    tenant           LowCardinality(String),
    alert_id         String,
    transition       LowCardinality(String),
    status           LowCardinality(String),
    http_status      Nullable(UInt16),
    attempts         UInt32,
    first_attempt_at DateTime64(3, 'UTC'),
    finished_at      DateTime64(3, 'UTC'),
    error            String,
    version          UInt64,
    inserted_at      DateTime64(3, 'UTC') default now64(3)
)
engine = ReplacingMergeTree(version)
order by idempotency_key;
