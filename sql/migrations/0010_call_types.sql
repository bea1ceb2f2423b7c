-- Call types per tenant with a readable label (e.g. the IVR option), loaded by `acdscope terms`.
create table if not exists call_type_dim
(
    tenant    LowCardinality(String),
    call_type LowCardinality(String),
    label     String,
    version   Int64
)
engine = ReplacingMergeTree(version)
order by (tenant, call_type);
