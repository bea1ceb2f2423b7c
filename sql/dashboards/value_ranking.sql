-- Question: which source gives the most quality per unit of cost?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per source with traffic and terms (`period` rows of `source_metrics`). value = service level
-- (abandons against, the source's SLA threshold) x FCR proxy / cost per contact (`acd_value`). An input the
-- setup cannot observe stays NULL (never 1: that would rank the least visible source best), and so do the value
-- and the rank; `missing_inputs` names what a source's value lacks. Sources are ranked on value alone; how much
-- traffic each could take at its service level is a capacity question this ranking does not answer: `acdscope
-- recommend` answers it (the split, threshold and seats that meet the targets at the lowest cost per contact).
with

valued as (
    select
        source,
        service_level,
        fcr_proxy,
        cost_per_contact,
        acd_value(service_level, fcr_proxy, cost_per_contact) as value,
        arrayStringConcat(arrayFilter(
            (name, missing) -> missing,
            ['service_level', 'fcr_proxy', 'cost_per_contact'],
            [service_level is null, fcr_proxy is null, cost_per_contact is null]), ', ') as missing_inputs
    from source_metrics(tenant = {tenant:String}, from = {from:DateTime64(3, 'UTC')},
                        until = {until:DateTime64(3, 'UTC')}, tz = 'UTC')
    where grain = 'period'
      and kind != ''
      and offered is not null
),

final as (
    select
        source,
        round(service_level, 4) as service_level,
        round(fcr_proxy, 4) as fcr_proxy,
        round(cost_per_contact, 2) as cost_per_contact,
        round(value, 4) as value,
        if(value is null, null, rank() over (order by value is null, value desc)) as value_rank,
        missing_inputs
    from valued
)

select * from final
order by value_rank nulls last, source
