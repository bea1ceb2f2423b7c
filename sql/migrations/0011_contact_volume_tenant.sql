-- Contact volume per tenant: several operations (or simulated scenarios) share topics, and without the tenant
-- in the key one tenant's row for an (interval, source, partition) replaced another's. The dashboards sum
-- tenants as they sum partitions; rows written before this migration carry tenant ''.
-- A new sorting-key column may only be appended, and only without a default.
alter table contact_volume_interval
    add column if not exists tenant LowCardinality(String) first,
    modify order by (interval_start, source, stream_partition, tenant);
