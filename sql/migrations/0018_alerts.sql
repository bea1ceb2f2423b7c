-- Alert transitions: one row per alert and transition (fired, then resolved), written by the alert stage of
-- the worker (`streams.engine.alerts`) as it decides on intervals final in every partition. The same rows go
-- to the `acd.alerts` topic for webhook delivery. A transition re-derived after a restart carries the same
-- key and version, so it replaces itself. An alert is open while it has a `fired` row and no `resolved` one.
create table if not exists alerts
(
    tenant           LowCardinality(String),
    alert_id         String,
    transition       LowCardinality(String),
    rule             LowCardinality(String),
    source           LowCardinality(String),
    interval_start   DateTime64(3, 'UTC'),
    decided_at       DateTime64(3, 'UTC'),
    value            Nullable(Float64),
    threshold        Float64,
    streak           UInt32,
    message          String,
    idempotency_key  String,
    version          UInt64,
    inserted_at      DateTime64(3, 'UTC') default now64(3)
)
engine = ReplacingMergeTree(version)
order by (tenant, alert_id, transition);
