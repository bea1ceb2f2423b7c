-- Question: what does each source look like right now: its agents on queue, available and not ready, the calls
-- waiting, who is out of adherence, and its service level and abandonment so far against the target?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (half-open, on
-- interval_start: "so far" is from the start of the day, or any period, to the moment `until`).
-- Grain: one row per source with terms: the `period` row of `source_metrics` over the window (service level at
-- the source's SLA threshold, abandons counted against; abandonment of queued calls), the agents' states as of
-- `until` from their latest state events (`agents_now`), and the RTA board's agents out of adherence now
-- (`adherence_live`). Agents are NULL with `agents_hidden_reason` where the setup hides them (never 0). Calls
-- waiting are NULL: the counters cannot give them exactly (offered - answered - abandoned - flowed out counts
-- an enterprise-routed redirect as still waiting, since it leaves the queue without a flow-out, and misses a
-- waiting transferred-in leg, which is not offered). The oldest wait is not tracked by any table yet.
with

period as (
    select *
    from source_metrics(tenant = {tenant:String}, from = {from:DateTime64(3, 'UTC')},
                        until = {until:DateTime64(3, 'UTC')}, tz = 'UTC')
    where grain = 'period'
      and kind != ''
),

agents as (
    select *
    from agents_now(tenant = {tenant:String}, until = {until:DateTime64(3, 'UTC')})
),

board as (
    select
        source,
        toUInt32(count()) as out_of_adherence,
        toUInt32(countIf(severe = 1)) as severe_out
    from adherence_live final
    where tenant = {tenant:String}
      and is_out = 1
    group by source
),

final as (
    select
        period.source as source,
        period.kind as kind,
        agents.agents_on_queue as agents_on_queue,
        agents.agents_available as agents_available,
        agents.agents_busy as agents_busy,
        agents.agents_not_ready as agents_not_ready,
        multiIf(agents.source is not null, '',
                period.staffing_hidden_reason != '', period.staffing_hidden_reason,
                period.staffing_basis = 'vendor report',
                concat(period.setup, ': only the interval reports of ', period.source,
                       ' are seen, not its agents'' states'),
                concat('no agent state events of ', period.source, ' before this moment')) as agents_hidden_reason,
        agents.states_as_of as agents_as_of,
        cast(null as Nullable(UInt64)) as calls_waiting,
        'not exact from the interval counters: a redirect leaves no flow-out, a transferred-in leg is not offered'
            as calls_waiting_hidden_reason,
        cast(null as Nullable(Float64)) as oldest_wait_s,
        'not tracked yet' as oldest_wait_hidden_reason,
        if(agents.source is null, null, ifNull(board.out_of_adherence, 0)) as out_of_adherence,
        if(agents.source is null, null, ifNull(board.severe_out, 0)) as severe_out,
        period.offered as offered,
        period.answered as answered,
        period.abandoned as abandoned,
        round(period.service_level, 4) as service_level,
        period.sla_target as sla_target,
        period.sla_breached as sla_breached,
        round(period.abandon_rate, 4) as abandon_rate,
        period.hidden_reason as hidden_reason
    from period
    left join agents on agents.source = period.source
    left join board on board.source = period.source
    settings join_use_nulls = 1
)

select * from final
order by kind, source
