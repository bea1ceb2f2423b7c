-- Question: who is out of adherence right now, doing what instead of what, and for how long?
-- Parameters: {tenant:String}, {min_duration_s:UInt32} (hide shorter episodes; 0 shows all past the grace).
-- Grain: one row per agent currently out of adherence (the live board the worker refreshes), longest first.
with

board as (
    select *
    from adherence_live final
    where tenant = {tenant:String}
      and is_out = 1
      and duration_ms >= {min_duration_s:UInt32} * 1000
),

final as (
    select
        agent_id,
        source,
        team,
        activity as scheduled,
        state as actual,
        impact,
        since,
        round(duration_ms / 60000, 1) as minutes_out,
        severe,
        as_of
    from board
)

select * from final
order by minutes_out desc, agent_id
