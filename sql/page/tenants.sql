-- Question: which tenants have data, over which span, and which interval is still in progress?
-- Parameters: none. Grain: one row per tenant with engine rows of calls (`quality_interval`) or agents
-- (`adherence_interval`): the page's tenant picker, and the anchor of its "today" (the tenant's latest day).
-- first_interval / latest_interval: the earliest and latest interval_start; in_progress: the latest interval
-- whose quality rows the engine has not yet written as final (NULL when every interval is final), so its
-- figures still grow (its staffed agents are time on queue over the whole interval, low until it ends).
with

calls as (
    select
        tenant,
        min(interval_start) as first_call_interval,
        max(interval_start) as latest_call_interval,
        maxIf(interval_start, is_final = 0) as open_interval,
        countIf(is_final = 0) as open_rows
    from quality_interval final
    group by tenant
),

agents as (
    select
        tenant,
        min(interval_start) as first_agent_interval,
        max(interval_start) as latest_agent_interval
    from adherence_interval
    group by tenant
),

final as (
    select
        tenant,
        least(ifNull(calls.first_call_interval, agents.first_agent_interval),
              ifNull(agents.first_agent_interval, calls.first_call_interval)) as first_interval,
        greatest(ifNull(calls.latest_call_interval, agents.latest_agent_interval),
                 ifNull(agents.latest_agent_interval, calls.latest_call_interval)) as latest_interval,
        if(ifNull(calls.open_rows, 0) > 0, calls.open_interval, null) as in_progress
    from calls
    full join agents using (tenant)
    settings join_use_nulls = 1
)

select * from final
order by tenant
