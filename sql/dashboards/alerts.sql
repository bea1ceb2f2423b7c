-- Question: which alerts were open during the period, which are open still, and when did each fire and resolve?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on decided_at: the
-- event time the alert stage decided at; an alert is listed if it fired before `until` and had not resolved
-- before `from`).
-- Grain: one row per alert, from its transitions in `alerts` (written by the worker's alert stage as it judges
-- the tenant file's rules): the rule and source, the interval (or day) it fired on and when that was decided,
-- the figure then against the rule's threshold, both in `unit` (% for a service level or a rate, s
-- for a wait), the intervals (days) in a row, its message, and the interval it
-- resolved on, NULL while it is open as of `until` (status `open`). Open alerts first, latest first.
with

transitions as (
    select *
    from alerts final
    where tenant = {tenant:String}
      and decided_at <= {until:DateTime64(3, 'UTC')}
),

per_alert as (
    select
        alert_id,
        any(rule) as rule,
        any(source) as source,
        anyIf(interval_start, transition = 'fired') as fired_interval,
        anyIf(decided_at, transition = 'fired') as fired_at,
        anyIf(value, transition = 'fired') as fired_value,
        any(threshold) as threshold,
        anyIf(streak, transition = 'fired') as fired_streak,
        anyIf(message, transition = 'fired') as fired_message,
        if(countIf(transition = 'resolved') = 0, null, anyIf(interval_start, transition = 'resolved'))
            as resolved_interval,
        if(countIf(transition = 'resolved') = 0, null, anyIf(decided_at, transition = 'resolved')) as resolved_at,
        if(countIf(transition = 'resolved') = 0, null, anyIf(message, transition = 'resolved')) as resolved_message
    from transitions
    group by alert_id
    having countIf(transition = 'fired') > 0
),

final as (
    select
        if(resolved_at is null, 'open', 'resolved') as status,
        rule,
        source,
        fired_interval,
        fired_at,
        round(if(rule = 'oldest_wait', fired_value, 100 * fired_value), 1) as figure,
        if(rule = 'oldest_wait', threshold, 100 * threshold) as threshold,
        if(rule = 'oldest_wait', 's', '%') as unit,
        fired_streak as streak,
        fired_message as message,
        resolved_interval,
        resolved_at,
        resolved_message,
        alert_id
    from per_alert
    where resolved_at is null or resolved_at >= {from:DateTime64(3, 'UTC')}
)

select * from final
order by status = 'open' desc, fired_at desc, rule, source
