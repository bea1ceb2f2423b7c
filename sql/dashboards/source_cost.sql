-- Question: what does each source cost per handled contact, per interval, after SLA credits?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (tenant, source, interval_start) with traffic and terms, from the `interval` rows of
-- `source_metrics`: the contract's cost model applied to the interval, its SLA credit when breached.
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
        round(cost_per_contact, 4) as cost_per_contact,
        cost_hidden_reason as hidden_reason
    from source_metrics(tenant = {tenant:String}, from = {from:DateTime64(3, 'UTC')},
                        until = {until:DateTime64(3, 'UTC')}, tz = 'UTC')
    where grain = 'interval'
      and kind != ''
      and offered is not null
)

select * from final
order by tenant, source, interval_start
