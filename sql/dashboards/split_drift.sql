-- Question: does each vendor get the share of calls its contract promises (split drift)?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (tenant, vendor with a contracted share) over the period: calls sent to it by a percentage
-- split (or a full engagement) against the calls that arrived at the enterprise ACD (`call_metrics`);
-- drift = actual - contracted share. NULL where the setup hides the routing (network-delivered: the carrier
-- splits).
with

arrivals as (
    select *
    from call_metrics(tenant = {tenant:String}, from = {from:DateTime64(3, 'UTC')},
                      until = {until:DateTime64(3, 'UTC')}, tz = 'UTC')
    where grain = 'period'
),

sent as (
    select
        tenant,
        to_source as source,
        sum(overflowed) as sent_by_split
    from overflow_target_interval final
    where tenant = {tenant:String}
      and trigger = 'split'
      and interval_start >= {from:DateTime64(3, 'UTC')}
      and interval_start < {until:DateTime64(3, 'UTC')}
    group by tenant, to_source
),

contracted as (
    select
        tenant,
        source,
        contracted_share
    from source_terms final
    where tenant = {tenant:String}
      and contracted_share is not null
),

final as (
    select
        contracted.tenant as tenant,
        contracted.source as source,
        arrivals.arrived as arrived,
        if(arrivals.routing_hidden, null, coalesce(sent.sent_by_split, 0)) as sent_by_split,
        contracted.contracted_share as contracted_share,
        round(acd_share(sent_by_split, arrivals.arrived), 4) as actual_share,
        round(actual_share - contracted_share, 4) as drift,
        if(arrivals.routing_hidden, arrivals.routing_hidden_reason, '') as hidden_reason
    from contracted
    left join arrivals on arrivals.tenant = contracted.tenant
    left join sent on sent.tenant = contracted.tenant and sent.source = contracted.source
    settings join_use_nulls = 1
)

select * from final
order by tenant, source
