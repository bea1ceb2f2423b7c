-- Question: how much traffic leaves the in-house queue for the vendors, why, after how long, and how are those
-- callers served end to end, interval by interval?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (tenant, arrival interval), from the `interval` rows of `call_metrics`. The end-to-end
-- service level (20 s, from the first enqueue, abandons counted against) is NULL when the setup hid any outcome
-- in the interval; overflow figures are NULL when routing happens at the carrier.
with

final as (
    select
        interval_start,
        arrived,
        overflowed,
        round(overflow_rate, 4) as overflow_rate,
        overflowed_timeout as by_timeout,
        overflowed_split as by_split,
        overflowed_call_type as by_call_type,
        round(wait_before_overflow_s, 1) as wait_before_overflow_s,
        redirects_failed_or_returned,
        round(e2e_service_level_20s, 4) as e2e_sl_20s,
        hidden_reason
    from call_metrics(tenant = {tenant:String}, from = {from:DateTime64(3, 'UTC')},
                      until = {until:DateTime64(3, 'UTC')}, tz = 'UTC')
    where grain = 'interval'
)

select * from final
order by interval_start
