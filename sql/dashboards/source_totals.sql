-- Question: over a period, how many contacts did each source get, answer and lose, and what share was lost?
-- Parameters: {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (half-open range on interval_start).
-- Grain: one row per source. Ratios come from summed raw counters, never from averaged interval ratios.
with

latest as (
    select
        source,
        offered,
        answered,
        abandoned
    from contact_volume_interval final
    where interval_start >= {from:DateTime64(3, 'UTC')}
      and interval_start < {until:DateTime64(3, 'UTC')}
),

totals as (
    select
        source,
        sum(offered) as offered_n,
        sum(answered) as answered_n,
        sum(abandoned) as abandoned_n
    from latest
    group by source
),

final as (
    select
        source,
        offered_n as offered,
        answered_n as answered,
        abandoned_n as abandoned,
        if(offered_n = 0, null, round(abandoned_n / offered_n, 4)) as abandon_rate
    from totals
)

select * from final
order by source
