-- Question: how much traffic leaves the in-house queue for the vendors, why, after how long, and how are those
-- callers served end to end, interval by interval?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (tenant, arrival interval). The end-to-end service level (20 s, from the first enqueue,
-- abandons counted against) is NULL when the setup hid any outcome in the interval; overflow figures are NULL
-- when routing happens at the carrier.
with

per_interval as (
    select
        o.interval_start as interval_start,
        sum(o.arrived) as arrived_n,
        if(countIf(o.overflowed is null) > 0, null, sum(o.overflowed)) as overflowed_n,
        if(countIf(o.overflowed is null) > 0, null, sum(o.overflowed_timeout)) as timeout_n,
        if(countIf(o.overflowed is null) > 0, null, sum(o.overflowed_split)) as split_n,
        if(countIf(o.overflowed is null) > 0, null, sum(o.overflowed_call_type)) as call_type_n,
        if(countIf(o.overflowed is null) > 0, null, sum(o.overflow_wait_ms)) as wait_ms,
        if(countIf(o.redirect_accepted is null) > 0, null, sum(o.redirect_failed) + sum(o.redirect_returned))
            as redirects_failed_n,
        if(sum(o.e2e_hidden) > 0, null, sum(arrayElement(o.e2e_answered_within, indexOf(o.thresholds_s, 20))))
            as e2e_in_20s,
        anyIf(o.hidden_reason, o.hidden_reason != '') as reason
    from overflow_interval as o final
    where o.tenant = {tenant:String}
      and o.interval_start >= {from:DateTime64(3, 'UTC')}
      and o.interval_start < {until:DateTime64(3, 'UTC')}
    group by o.interval_start
),

final as (
    select
        interval_start,
        arrived_n as arrived,
        overflowed_n as overflowed,
        round(overflowed_n / nullIf(arrived_n, 0), 4) as overflow_rate,
        timeout_n as by_timeout,
        split_n as by_split,
        call_type_n as by_call_type,
        round(wait_ms / nullIf(timeout_n, 0) / 1000, 1) as wait_before_overflow_s,
        redirects_failed_n as redirects_failed_or_returned,
        round(e2e_in_20s / nullIf(arrived_n, 0), 4) as e2e_sl_20s,
        reason as hidden_reason
    from per_interval
)

select * from final
order by interval_start
