-- Question: how does each source (in-house and every vendor) perform over a period, on every figure the setup
-- lets the enterprise observe?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (tenant, source). Service-level variants at the source's SLA threshold: abandons counted
-- against (all offered), ignored (abandons inside the threshold left out), in favour (they count as met), and
-- with short abandons excluded. Ratios of summed counters only; NULL = not observable in this setup.
with

period as (
    select *
    from source_interval
    where tenant = {tenant:String}
      and interval_start >= {from:DateTime64(3, 'UTC')}
      and interval_start < {until:DateTime64(3, 'UTC')}
),

totals as (
    select
        tenant,
        source,
        any(p.kind) as kind_n,
        any(p.sla_target) as target_n,
        sum(p.offered) as offered_n,
        sum(p.answered) as answered_n,
        sum(p.abandoned) as abandoned_n,
        if(countIf(p.short_abandoned is null) > 0, null, sum(p.short_abandoned)) as short_n,
        sum(p.answered_in_sla) as in_sla_n,
        if(countIf(p.abandoned_in_sla is null) > 0, null, sum(p.abandoned_in_sla)) as abandoned_in_sla_n,
        if(countIf(p.wait_answered_ms is null) > 0, null, sum(p.wait_answered_ms)) as wait_ms,
        sum(p.handled) as handled_n,
        sum(p.handle_ms) as handle_ms_n,
        if(countIf(p.transferred is null) > 0, null, sum(p.transferred)) as transferred_n,
        if(countIf(p.qa_count is null) > 0, null, sum(p.qa_sum)) as qa_sum_n,
        if(countIf(p.qa_count is null) > 0, null, sum(p.qa_count)) as qa_n,
        if(countIf(p.csat_count is null) > 0, null, sum(p.csat_sum)) as csat_sum_n,
        if(countIf(p.csat_count is null) > 0, null, sum(p.csat_count)) as csat_n,
        countIf(p.offered > 0 and p.answered_in_sla / p.offered < p.sla_target) as intervals_breached,
        anyIf(p.hidden_reason, p.hidden_reason != '') as reason
    from period as p
    group by tenant, source
),

repeats as (
    select
        tenant,
        source,
        sum(handled) as handled_triggers,
        sum(repeated) as repeated_n,
        max(censored) as censored
    from repeat_interval final
    where tenant = {tenant:String}
      and interval_start >= {from:DateTime64(3, 'UTC')}
      and interval_start < {until:DateTime64(3, 'UTC')}
    group by tenant, source
),

staffing as (
    select
        tenant,
        source,
        sum(rostered_ms) as rostered_ms,
        sum(exception_ms) as exception_ms,
        sum(scheduled_on_queue_ms) as on_queue_scheduled_ms,
        sum(worked_on_queue_ms) as on_queue_worked_ms
    from staffing_interval
    where tenant = {tenant:String}
      and interval_start >= {from:DateTime64(3, 'UTC')}
      and interval_start < {until:DateTime64(3, 'UTC')}
    group by tenant, source
),

costs as (
    select
        tenant,
        source,
        if(countIf(net_cost is null) > 0, null, sum(net_cost)) as net_cost_n,
        sum(handled) as costed_handled
    from cost_interval
    where tenant = {tenant:String}
      and interval_start >= {from:DateTime64(3, 'UTC')}
      and interval_start < {until:DateTime64(3, 'UTC')}
    group by tenant, source
),

final as (
    select
        t.source as source,
        t.kind_n as kind,
        t.offered_n as offered,
        round(t.in_sla_n / nullIf(t.offered_n, 0), 4) as sl_abandons_against,
        round(t.in_sla_n / nullIf(t.offered_n - t.abandoned_in_sla_n, 0), 4) as sl_abandons_ignored,
        round((t.in_sla_n + t.abandoned_in_sla_n) / nullIf(t.offered_n, 0), 4) as sl_abandons_in_favour,
        round(t.in_sla_n / nullIf(t.offered_n - t.short_n, 0), 4) as sl_short_excluded,
        t.target_n as sla_target,
        t.intervals_breached as intervals_breached,
        round(t.wait_ms / nullIf(t.answered_n, 0) / 1000, 1) as asa_s,
        round(t.abandoned_n / nullIf(t.offered_n, 0), 4) as abandon_rate,
        round((t.abandoned_n - t.short_n) / nullIf(t.offered_n - t.short_n, 0), 4) as abandon_rate_excl_short,
        round(t.handle_ms_n / nullIf(t.handled_n, 0) / 1000, 1) as aht_s,
        round(t.transferred_n / nullIf(t.handled_n, 0), 4) as transfer_rate,
        round(1 - r.repeated_n / nullIf(r.handled_triggers, 0), 4) as fcr_proxy,
        r.censored as fcr_censored,
        round(t.qa_sum_n / nullIf(t.qa_n, 0), 1) as qa_score,
        round(t.csat_sum_n / nullIf(t.csat_n, 0), 2) as csat,
        round(c.net_cost_n / nullIf(c.costed_handled, 0), 2) as cost_per_contact,
        round(1 - s.exception_ms / nullIf(s.rostered_ms, 0), 4) as adherence,
        round(s.on_queue_worked_ms / nullIf(s.on_queue_scheduled_ms, 0), 4) as conformance,
        t.reason as hidden_reason
    from totals as t
    left join repeats as r on r.tenant = t.tenant and r.source = t.source
    left join staffing as s on s.tenant = t.tenant and s.source = t.source
    left join costs as c on c.tenant = t.tenant and c.source = t.source
    settings join_use_nulls = 1
)

select * from final
order by kind, source
