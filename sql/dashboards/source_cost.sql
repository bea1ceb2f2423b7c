-- Question: what does each source cost per handled contact, per interval, after SLA credits?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (tenant, source, interval_start). Quantities are the engine's counters summed over
-- stream partitions and call types; rates, SLA and credits come from source_terms. A cost the setup cannot
-- observe (per agent hour, when the vendor's agents are not seen) is NULL with the reason.
with

terms as (
    select *
    from source_terms final
    where tenant = {tenant:String}
),

quality as (
    select
        q.tenant,
        q.source,
        q.interval_start,
        sum(q.offered) as offered,
        sum(q.handled) as handled,
        sum(q.handle_ms) as handle_ms,
        sum(arrayElement(q.answered_within, indexOf(q.thresholds_s, t.sla_threshold_s))) as answered_in_sla
    from quality_interval as q final
    inner join terms as t on t.tenant = q.tenant and t.source = q.source
    where q.tenant = {tenant:String}
      and q.interval_start >= {from:DateTime64(3, 'UTC')}
      and q.interval_start < {until:DateTime64(3, 'UTC')}
    group by q.tenant, q.source, q.interval_start
),

staffing as (
    select
        tenant,
        source,
        interval_start,
        sum(scheduled_ms) as rostered_ms
    from adherence_interval final
    where tenant = {tenant:String}
      and interval_start >= {from:DateTime64(3, 'UTC')}
      and interval_start < {until:DateTime64(3, 'UTC')}
    group by tenant, source, interval_start
),

joined as (
    select
        quality.tenant as tenant,
        quality.source as source,
        quality.interval_start as interval_start,
        quality.offered as offered,
        quality.handled as handled,
        quality.handle_ms as handle_ms,
        quality.answered_in_sla as answered_in_sla,
        staffing.rostered_ms as rostered_ms,
        terms.kind as kind,
        terms.setup as setup,
        terms.cost_model as cost_model,
        terms.rate as rate,
        terms.sla_target as sla_target,
        terms.sla_credit as sla_credit
    from quality
    inner join terms on terms.tenant = quality.tenant and terms.source = quality.source
    left join staffing
        on staffing.tenant = quality.tenant
       and staffing.source = quality.source
       and staffing.interval_start = quality.interval_start
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
        if(offered = 0 or answered_in_sla is null, null, answered_in_sla / offered) as service_level
    from joined
),

final as (
    select
        tenant,
        source,
        interval_start,
        kind,
        cost_model,
        offered,
        handled,
        round(service_level, 4) as service_level,
        sla_target,
        service_level < sla_target as sla_breached,
        round(gross_cost, 2) as gross_cost,
        round(if(service_level < sla_target, gross_cost * sla_credit, 0), 2) as sla_credit_amount,
        round(gross_cost - if(service_level < sla_target, gross_cost * sla_credit, 0), 2) as net_cost,
        if(handled = 0, null, round((gross_cost - if(service_level < sla_target, gross_cost * sla_credit, 0)) / handled, 4))
            as cost_per_contact,
        if(gross_cost is null, concat(setup, ': agent hours of ', source, ' are not observable'), '') as hidden_reason
    from priced
)

select * from final
order by tenant, source, interval_start
