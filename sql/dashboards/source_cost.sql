-- Question: what does each source cost per handled contact, per interval, after SLA credits?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (tenant, source, interval_start), from the cost_interval view (migration 0008).
with

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
        sla_breached,
        round(gross_cost, 2) as gross_cost,
        round(sla_credit_amount, 2) as sla_credit_amount,
        round(net_cost, 2) as net_cost,
        if(handled = 0, null, round(net_cost / handled, 4)) as cost_per_contact,
        cost_hidden_reason as hidden_reason
    from cost_interval
    where tenant = {tenant:String}
      and interval_start >= {from:DateTime64(3, 'UTC')}
      and interval_start < {until:DateTime64(3, 'UTC')}
)

select * from final
order by tenant, source, interval_start
