-- Question: what does each source look like right now: its agents on queue, available and not ready, the calls
-- waiting, who is out of adherence, and its service level and abandonment so far against the target?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (half-open, on
-- interval_start: "so far" is from the start of the day, or any period, to the moment `until`).
-- Grain: one row per source with terms: the `period` row of `source_metrics` over the window (service level at
-- the source's SLA threshold, abandons counted against; abandonment of queued calls), the agents' states as of
-- `until` from their latest state events (`agents_now`), and the RTA board's agents out of adherence now
-- (`adherence_live`). Agents are NULL with `agents_hidden_reason` where the setup hides them (never 0). Calls
-- waiting and the oldest wait come from the worker's live queue (`queue_live`, legs tracked from queued to
-- answered, abandoned, overflowed or redirected away, summed over partitions) as of its `queue_as_of`: 0 where
-- the source's queue is seen and nobody waits, NULL with `calls_waiting_hidden_reason` where the setup hides
-- the vendor's queue, where the worker has written no live queue yet, or where that moment is outside the
-- period (the live queue is a figure of now, not of a past period).
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

queue as (
    select
        q.source as source,
        toUInt64(sum(q.waiting)) as legs_waiting,
        minIf(q.oldest_queued_at, q.waiting > 0) as oldest_queued
    from queue_live as q final
    where q.tenant = {tenant:String}
    group by q.source
),

queue_seen as (
    select maxOrNull(as_of) as queue_as_of
    from queue_live final
    where tenant = {tenant:String}
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
        multiIf(period.kind = 'vendor' and period.setup in ('network_delivered', 'enterprise_routed'),
                concat(period.setup, ': the vendor''s queue is not seen, only its interval reports'),
                queue_seen.queue_as_of is null, 'no live queue from the worker yet (it writes one as time passes)',
                queue_seen.queue_as_of < {from:DateTime64(3, 'UTC')} or queue_seen.queue_as_of > {until:DateTime64(3, 'UTC')},
                concat('the live queue is as of ', toString(queue_seen.queue_as_of), ' UTC, outside this period'),
                '') as calls_waiting_hidden_reason,
        if(calls_waiting_hidden_reason = '', ifNull(queue.legs_waiting, 0), null) as calls_waiting,
        if(calls_waiting_hidden_reason = '',
           if(ifNull(queue.legs_waiting, 0) = 0, 0,
              round(dateDiff('millisecond', queue.oldest_queued, queue_seen.queue_as_of) / 1000, 1)),
           null) as oldest_wait_s,
        calls_waiting_hidden_reason as oldest_wait_hidden_reason,
        queue_seen.queue_as_of as queue_as_of,
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
    left join queue on queue.source = period.source
    cross join queue_seen
    settings join_use_nulls = 1
)

select * from final
order by kind, source
