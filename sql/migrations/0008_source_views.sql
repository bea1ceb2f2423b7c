-- Shared definitions the dashboards build on, so each figure is defined once (here), never per dashboard.

-- One row per (tenant, source, interval): the engine's counters summed over stream partitions and call types,
-- with the service-level threshold of the source's terms picked out of the threshold arrays.
create view if not exists source_interval as
with
    q as (
        select * from quality_interval final
    ),
    t as (
        select * from source_terms final
    )
select
    q.tenant as tenant,
    q.source as source,
    q.interval_start as interval_start,
    any(t.kind) as kind,
    any(t.setup) as setup,
    sum(q.offered) as offered,
    sum(q.answered) as answered,
    sum(q.abandoned) as abandoned,
    if(countIf(q.short_abandoned is null) > 0, null, sum(q.short_abandoned)) as short_abandoned,
    sum(arrayElement(q.answered_within, indexOf(q.thresholds_s, t.sla_threshold_s))) as answered_in_sla,
    if(countIf(arrayElement(q.abandoned_within, indexOf(q.thresholds_s, t.sla_threshold_s)) is null) > 0, null,
       sum(arrayElement(q.abandoned_within, indexOf(q.thresholds_s, t.sla_threshold_s)))) as abandoned_in_sla,
    if(countIf(q.wait_answered_ms is null) > 0, null, sum(q.wait_answered_ms)) as wait_answered_ms,
    sum(q.handled) as handled,
    sum(q.handle_ms) as handle_ms,
    if(countIf(q.transferred is null) > 0, null, sum(q.transferred)) as transferred,
    if(countIf(q.qa_count is null) > 0, null, sum(q.qa_sum)) as qa_sum,
    if(countIf(q.qa_count is null) > 0, null, sum(q.qa_count)) as qa_count,
    if(countIf(q.csat_count is null) > 0, null, sum(q.csat_sum)) as csat_sum,
    if(countIf(q.csat_count is null) > 0, null, sum(q.csat_count)) as csat_count,
    any(t.sla_threshold_s) as sla_threshold_s,
    any(t.sla_target) as sla_target,
    any(t.sla_credit) as sla_credit,
    any(t.chronic_after) as chronic_after,
    any(t.cost_model) as cost_model,
    any(t.rate) as rate,
    anyIf(q.hidden_reason, q.hidden_reason != '') as hidden_reason
from q
inner join t on t.tenant = q.tenant and t.source = q.source
group by q.tenant, q.source, q.interval_start;

-- Rostered (scheduled) agent time per (tenant, source, interval): the paid hours of hourly cost models.
create view if not exists staffing_interval as
select
    tenant,
    source,
    interval_start,
    sum(scheduled_ms) as rostered_ms,
    sum(exception_ms) as exception_ms,
    sum(scheduled_on_queue_ms) as scheduled_on_queue_ms,
    sum(worked_on_queue_ms) as worked_on_queue_ms
from adherence_interval final
group by tenant, source, interval_start;

-- Cost per (tenant, source, interval): the contract's model applied to the engine's quantities, minus the
-- SLA credit of a breached interval. NULL (with the reason) where the setup hides the quantity.
create view if not exists cost_interval as
with
    joined as (
        select
            s.*,
            st.rostered_ms as rostered_ms,
            if(s.offered = 0, null, s.answered_in_sla / s.offered) as service_level
        from source_interval as s
        left join staffing_interval as st
            on st.tenant = s.tenant and st.source = s.source and st.interval_start = s.interval_start
        settings join_use_nulls = 1
    ),
    priced as (
        select
            *,
            multiIf(
                cost_model = 'per_contact', rate * handled,
                cost_model = 'per_handled_minute', rate * handle_ms / 60000,
                cost_model in ('loaded_hourly', 'per_agent_hour') and rostered_ms is not null, rate * rostered_ms / 3600000,
                null
            ) as gross_cost,
            service_level < sla_target as sla_breached
        from joined
    )
select
    tenant,
    source,
    interval_start,
    kind,
    setup,
    cost_model,
    offered,
    handled,
    service_level,
    sla_target,
    sla_breached,
    gross_cost,
    if(sla_breached, gross_cost * sla_credit, 0) as sla_credit_amount,
    gross_cost - if(sla_breached, gross_cost * sla_credit, 0) as net_cost,
    if(gross_cost is null, concat(setup, ': agent hours of ', source, ' are not observable'), '') as cost_hidden_reason
from priced;
