-- The metric layer, part 2, applied after part 1 (see 1_formulas.sql for why it is not a migration): the
-- engine's counters summed over stream partitions at the grains the dashboards read, with every figure (the
-- functions of part 1) applied once: `source_metrics` per source, `call_metrics` per tenant's customer calls,
-- `volume_interval` for the contact volume. Dashboards select from these and shape the answer; they define no
-- figure. NULL = not observable. `source_interval`, `source_call_type_interval` and `source_day` are grains of
-- `source_metrics`; 0008's `cost_interval` and `staffing_interval` are columns of it.

-- Every figure per source over a period, at five grains: `call_type_interval`, `interval`, `day` (local days of
-- {tz}), the `period` total of each source, and `kind` totals (the in-house center, every vendor together).
-- Parameters: {tenant} ('' for all), [{from}, {until}) on interval_start, {tz}. Counters are summed at each
-- grain from the engine's rows, then the functions of part 1 applied to the sums. A row's call_type, interval_start
-- and day are ''/1970-01-01 at grains that have none. Sources without loaded terms have kind '' and no SLA.
-- - Quality: summed over partitions and observation paths (events, or the vendor's report); answered_in_sla
--   at the source's SLA threshold (NULL when that threshold is not counted or a row does not show it), and
--   answered_in_20s at the 20 s that puts setups side by side.
-- - Cost: the contract applied per interval with traffic (the SLA is judged, and its credit earned, per
--   interval), then summed.
-- - Staffing counts every interval with scheduled agents, traffic or not: occupancy, utilisation, shrinkage at
--   every grain; staffed (average agents on queue), required (Erlang A with the callers' patience observed that
--   day, Erlang C where none abandoned, for the interval's offered calls, AHT and the source's SLA) and their
--   difference per interval; NULL with `staffing_hidden_reason` where the
--   setup hides the source's agents. Repeats count handled calls by the
--   interval of the first call.
-- - Where the agents are not seen but a vendor's reports give their time on queue (its WFM's staffed time),
--   staffing comes from the reports: `worked_on_queue_ms` and `handling_ms` are then the reports' staffed and
--   handle time (the latter dated by the calls' arrival, not when the work was done), so staffed agents,
--   occupancy, required and over/under are those of the reports; `staffing_basis` says which ('agent states',
--   'vendor report', '' where neither). Schedules are not in a report: adherence, conformance, utilisation and
--   shrinkage stay NULL, with `schedule_hidden_reason`. Staffing is a source's, not a call type's (its agents
--   take several): NULL at the call_type_interval grain, with no reason (nothing is hidden).
-- - Seats (`contracted_seats` in the terms): `seats_gap_agents` = staffed - contracted seats per interval;
--   `open_staffed_agents` = agents on queue over the intervals the source was open (agents scheduled or on
--   queue; a reported staffed time) at the interval grain and above, and `seat_fill` = that / contracted seats.
-- - Forecast (`forecast_interval`, at the engine's interval width): forecast calls and AHT (calls-weighted) at
--   every grain, their variances (actual / forecast - 1), the agents required for the forecast (the same model)
--   (interval grain), and per breached interval its cause: under-staffed for the forecast, sent more than
--   forecast by more than the terms' forecast_tolerance, both, or neither; NULL with `breach_cause_hidden_reason`
--   where the forecast or the staffing is not observable.
-- - streak: breached intervals (or days) in a row within the period, those without traffic neither breaking
--   nor extending it; chronic once it reaches the terms' chronic_after intervals or chronic_after_days days.
create or replace view source_metrics as
with
    terms as (
        select * from source_terms final
    ),
    quality as (
        select
            q.tenant as tenant,
            ifNull(t.kind, '') as kind,
            q.source as source,
            q.call_type as call_type,
            multiIf(grouping(call_type) = 0, 'call_type_interval', grouping(interval_start) = 0, 'interval',
                    grouping(day) = 0, 'day', grouping(source) = 0, 'period', 'kind') as grain,
            q.interval_start as interval_start,
            toDate(q.interval_start, {tz:String}) as day,
            ifNull(any(t.setup), '') as setup,
            any(t.sla_threshold_s) as sla_threshold_s,
            any(t.sla_target) as sla_target,
            any(t.chronic_after) as chronic_after,
            any(t.chronic_after_days) as chronic_after_days,
            any(t.cost_model) as cost_model,
            any(t.rate) as rate,
            any(t.sla_credit) as sla_credit,
            any(t.forecast_tolerance) as forecast_tolerance,
            sum(q.offered) as offered,
            sum(q.answered) as answered,
            sum(q.abandoned) as abandoned,
            acd_observed_sum(q.short_abandoned) as short_abandoned,
            acd_observed_sum(if(indexOf(q.thresholds_s, t.sla_threshold_s) = 0, null,
                                arrayElement(q.answered_within, indexOf(q.thresholds_s, t.sla_threshold_s))))
                as answered_in_sla,
            acd_observed_sum(if(indexOf(q.thresholds_s, t.sla_threshold_s) = 0, null,
                                arrayElement(q.abandoned_within, indexOf(q.thresholds_s, t.sla_threshold_s))))
                as abandoned_in_sla,
            sum(if(indexOf(q.thresholds_s, 20) = 0, null, arrayElement(q.answered_within, indexOf(q.thresholds_s, 20))))
                as answered_in_20s,
            acd_observed_sum(q.wait_answered_ms) as wait_answered_ms,
            acd_observed_sum(q.wait_abandoned_ms) as wait_abandoned_ms,
            sum(q.handled) as handled,
            sum(q.handle_ms) as handle_ms,
            acd_observed_sum(q.talk_ms) as talk_ms,
            any(q.interval_minutes) as interval_minutes,
            acd_observed_sum(q.transferred) as transferred,
            acd_observed_sum(q.transferred_in) as transferred_in,
            acd_observed_sum(q.overflowed_out) as flowed_out,
            acd_observed_sum(q.qa_sum) as qa_sum,
            acd_observed_sum(q.qa_count) as qa_count,
            acd_observed_sum(q.csat_sum) as csat_sum,
            acd_observed_sum(q.csat_count) as csat_count,
            acd_observed_sum(q.staffed_ms) as reported_staffed_ms,
            uniqExactIf(q.interval_start, q.staffed_ms is not null) as reported_intervals,
            anyIf(q.hidden_reason, q.hidden_reason != '') as hidden_reason
        from quality_interval as q final
        left join terms as t on t.tenant = q.tenant and t.source = q.source
        where ({tenant:String} = '' or q.tenant = {tenant:String})
          and q.interval_start >= {from:DateTime64(3, 'UTC')}
          and q.interval_start < {until:DateTime64(3, 'UTC')}
        group by grouping sets (
            (tenant, kind, source, call_type, interval_start), (tenant, kind, source, interval_start),
            (tenant, kind, source, day), (tenant, kind, source), (tenant, kind)
        )
    ),
    staffing as (
        select
            a.tenant as tenant,
            ifNull(t.kind, '') as kind,
            a.source as source,
            '' as call_type,
            acd_source_grain(interval_start, day, source) as grain,
            a.interval_start as interval_start,
            toDate(a.interval_start, {tz:String}) as day,
            sum(a.scheduled_ms) as scheduled_ms,
            sum(a.exception_ms) as exception_ms,
            sum(a.scheduled_on_queue_ms) as scheduled_on_queue_ms,
            sum(a.worked_on_queue_ms) as worked_on_queue_ms,
            acd_observed_sum(a.handling_ms) as handling_ms,
            uniqExactIf(a.interval_start, a.scheduled_ms + a.worked_on_queue_ms > 0) as rostered_intervals
        from adherence_interval as a final
        left join terms as t on t.tenant = a.tenant and t.source = a.source
        where ({tenant:String} = '' or a.tenant = {tenant:String})
          and a.interval_start >= {from:DateTime64(3, 'UTC')}
          and a.interval_start < {until:DateTime64(3, 'UTC')}
        group by grouping sets (
            (tenant, kind, source, interval_start), (tenant, kind, source, day), (tenant, kind, source), (tenant, kind)
        )
    ),
    priced as (
        -- Every interval the source had calls or agents on it: hourly models bill the quiet ones too. (The join
        -- keys are taken from either side, not nullable: the grouping sets below give '' and 1970-01-01 to the
        -- keys a grain has not, as every other part of the view does.)
        select
            assumeNotNull(coalesce(q.tenant, h.tenant)) as tenant,
            assumeNotNull(coalesce(q.kind, h.kind)) as kind,
            assumeNotNull(coalesce(q.source, h.source)) as source,
            assumeNotNull(coalesce(q.interval_start, h.interval_start)) as interval_start,
            acd_sla_breached(q.answered_in_sla, q.offered, t.sla_target) as sla_breached,
            -- Agents on queue from their states where seen, else a vendor's reported staffed time.
            if(h.scheduled_ms is not null, h.worked_on_queue_ms, q.reported_staffed_ms) as on_queue_ms,
            if(q.offered is not null or ifNull(h.scheduled_ms + h.worked_on_queue_ms, 0) > 0,
               max(q.interval_minutes) over (partition by tenant) * 60000, 0) as open_ms,
            -- An interval with the agents seen and no calls had none: where the agents are seen, the calls are.
            -- The in-house center's agents are always seen: none scheduled is no rostered hour, not a hidden one.
            acd_gross_cost(t.cost_model, t.rate, coalesce(q.answered, if(h.scheduled_ms is null, null, 0)),
                           coalesce(q.handle_ms, if(h.scheduled_ms is null, null, 0)),
                           if(kind = 'in_house', ifNull(h.scheduled_ms, 0), h.scheduled_ms), on_queue_ms,
                           open_ms, t.contracted_seats) as gross_cost,
            acd_sla_credit(gross_cost, sla_breached, t.sla_credit) as sla_credit_amount,
            ifNull(multiIf(gross_cost is not null or kind = '', '',
                           t.cost_model in ('fixed', 'anchored'),
                           concat(source, ' is priced per billing period (', t.cost_model, '): see the settlement'),
                           concat(t.setup, ': agent hours of ', source, ' are not observable')), '')
                as cost_hidden_reason
        from (select * from quality where grain = 'interval') as q
        full join (select * from staffing where grain = 'interval') as h
            on h.tenant = q.tenant and h.kind = q.kind and h.source = q.source
           and h.interval_start = q.interval_start
        left join terms as t on t.tenant = tenant and t.source = source
    ),
    costs as (
        select
            tenant,
            kind,
            source,
            '' as call_type,
            acd_source_grain(interval_start, day, source) as grain,
            interval_start,
            toDate(interval_start, {tz:String}) as day,
            countIf(p.sla_breached = 1) as intervals_breached,
            acd_observed_sum(p.gross_cost) as gross_cost,
            sum(p.sla_credit_amount) as sla_credit_amount,
            acd_observed_sum(p.gross_cost - p.sla_credit_amount) as net_cost,
            anyIf(p.cost_hidden_reason, p.cost_hidden_reason != '') as cost_hidden_reason
        from priced as p
        group by grouping sets (
            (tenant, kind, source, interval_start), (tenant, kind, source, day), (tenant, kind, source), (tenant, kind)
        )
    ),
    repeats as (
        select
            r.tenant as tenant,
            ifNull(t.kind, '') as kind,
            r.source as source,
            '' as call_type,
            acd_source_grain(interval_start, day, source) as grain,
            r.interval_start as interval_start,
            toDate(r.interval_start, {tz:String}) as day,
            sum(r.handled) as first_calls_handled,
            sum(r.repeated) as repeated,
            max(r.censored) as repeats_censored
        from repeat_interval as r final
        left join terms as t on t.tenant = r.tenant and t.source = r.source
        where ({tenant:String} = '' or r.tenant = {tenant:String})
          and r.interval_start >= {from:DateTime64(3, 'UTC')}
          and r.interval_start < {until:DateTime64(3, 'UTC')}
        group by grouping sets (
            (tenant, kind, source, interval_start), (tenant, kind, source, day), (tenant, kind, source), (tenant, kind)
        )
    ),
    forecast as (
        select
            f.tenant as tenant,
            ifNull(t.kind, '') as kind,
            f.source as source,
            f.call_type as call_type,
            multiIf(grouping(call_type) = 0, 'call_type_interval', grouping(interval_start) = 0, 'interval',
                    grouping(day) = 0, 'day', grouping(source) = 0, 'period', 'kind') as grain,
            f.interval_start as interval_start,
            toDate(f.interval_start, {tz:String}) as day,
            sum(f.calls) as forecast_calls,
            sum(f.calls * f.aht_s * 1000) as forecast_handle_ms
        from forecast_interval as f final
        left join terms as t on t.tenant = f.tenant and t.source = f.source
        where ({tenant:String} = '' or f.tenant = {tenant:String})
          and f.interval_start >= {from:DateTime64(3, 'UTC')}
          and f.interval_start < {until:DateTime64(3, 'UTC')}
        group by grouping sets (
            (tenant, kind, source, call_type, interval_start), (tenant, kind, source, interval_start),
            (tenant, kind, source, day), (tenant, kind, source), (tenant, kind)
        )
    ),
    joined as (
        select
            * except (offered, worked_on_queue_ms, handling_ms),
            -- Where the agents are seen the calls are too: an interval with agents and no quality row had none.
            if(offered is null and scheduled_ms is not null, 0, offered) as offered,
            -- Staffing from the agents' states where they are seen, else from the time on queue a vendor's
            -- reports give (every summed report giving it), else not observable. It is a source's: agents take
            -- several call types (a report's share of their time is the vendor's own division of it).
            multiIf(grain = 'call_type_interval', '', scheduled_ms is not null, 'agent states',
                    reported_staffed_ms is not null, 'vendor report', '') as staffing_basis,
            if(staffing_basis = 'vendor report', reported_staffed_ms, worked_on_queue_ms) as worked_on_queue_ms,
            if(staffing_basis = 'vendor report', handle_ms, handling_ms) as handling_ms
        from quality
        full join costs using (tenant, kind, source, call_type, grain, interval_start, day)
        full join staffing using (tenant, kind, source, call_type, grain, interval_start, day)
        full join repeats using (tenant, kind, source, call_type, grain, interval_start, day)
        full join forecast using (tenant, kind, source, call_type, grain, interval_start, day)
        left join (select tenant, source, contracted_seats from terms) as seats using (tenant, source)
    ),
    figures as (
        select
            *,
            acd_service_level(answered_in_sla, offered) as service_level,
            acd_service_level_abandons_ignored(answered_in_sla, offered, abandoned_in_sla) as sl_abandons_ignored,
            acd_service_level_abandons_in_favour(answered_in_sla, offered, abandoned_in_sla) as sl_abandons_in_favour,
            acd_service_level_short_excluded(answered_in_sla, offered, short_abandoned) as sl_short_excluded,
            acd_service_level_flowouts_excluded(answered_in_sla, offered, flowed_out) as sl_flowouts_excluded,
            acd_service_level(answered_in_20s, offered) as service_level_20s,
            acd_sla_breached(answered_in_sla, offered, sla_target) as sla_breached,
            acd_asa_s(wait_answered_ms, answered) as asa_s,
            acd_abandon_rate(abandoned, offered) as abandon_rate,
            acd_abandon_rate_excl_short(abandoned, offered, short_abandoned) as abandon_rate_excl_short,
            acd_aht_s(handle_ms, handled) as aht_s,
            acd_mean_service_s(talk_ms, handled) as mean_service_s,
            acd_transfer_rate(transferred, handled) as transfer_rate,
            acd_qa_score(qa_sum, qa_count) as qa_score,
            acd_csat(csat_sum, csat_count) as csat,
            acd_fcr_proxy(repeated, first_calls_handled) as fcr_proxy,
            acd_cost_per_contact(net_cost, answered) as cost_per_contact,
            acd_adherence(exception_ms, scheduled_ms) as adherence,
            acd_conformance(worked_on_queue_ms, scheduled_on_queue_ms) as conformance,
            acd_occupancy(handling_ms, worked_on_queue_ms) as occupancy,
            acd_utilisation(handling_ms, scheduled_ms) as utilisation,
            acd_shrinkage(worked_on_queue_ms, scheduled_ms) as shrinkage,
            -- Agents are averaged over an interval (the engine's width, the same for all of a tenant's rows).
            if(grain = 'interval', max(interval_minutes) over (partition by tenant) * 60000, null) as span_ms,
            acd_average_agents(worked_on_queue_ms, span_ms) as staffed_agents,
            -- Patience is the callers' own: estimated per source over each local day (the period at coarser
            -- grains), so that an interval with few abandons borrows the day's.
            acd_mean_patience_s(
                sum(wait_answered_ms) over patience_day, sum(wait_abandoned_ms) over patience_day,
                sum(abandoned) over patience_day) as mean_patience_s,
            if(offered > 0, acd_required_model(mean_patience_s), '') as required_model,
            acd_required_agents(offered, aht_s, span_ms / 1000, sla_threshold_s, sla_target, mean_patience_s)
                as required_agents,
            staffed_agents - required_agents as over_under_agents,
            if(kind != '' and grain != 'call_type_interval' and offered > 0 and staffing_basis = '',
               concat(setup, ': the agents of ', source, ' are not seen, only its calls'), '')
                as staffing_hidden_reason,
            multiIf(staffing_hidden_reason != '', staffing_hidden_reason,
                    staffing_basis = 'vendor report',
                    concat(setup, ': ', source, ' reports its agents'' time on queue, not their schedules'), '')
                as schedule_hidden_reason,
            staffed_agents - contracted_seats as seats_gap_agents,
            multiIf(staffing_basis = 'agent states', rostered_intervals,
                    staffing_basis = 'vendor report', reported_intervals, null)
                * max(interval_minutes) over (partition by tenant) * 60000 as open_ms,
            acd_average_agents(worked_on_queue_ms, open_ms) as open_staffed_agents,
            acd_seat_fill(open_staffed_agents, contracted_seats) as seat_fill,
            acd_aht_s(forecast_handle_ms, forecast_calls) as forecast_aht_s,
            acd_variance(offered, forecast_calls) as volume_variance,
            acd_variance(aht_s, forecast_aht_s) as aht_variance,
            acd_required_agents(forecast_calls, forecast_aht_s, span_ms / 1000, sla_threshold_s, sla_target,
                                mean_patience_s)
                as required_for_forecast,
            acd_breach_cause(sla_breached, offered, forecast_calls, staffed_agents, required_for_forecast,
                             forecast_tolerance)
                as breach_cause,
            multiIf(sla_breached = 1 and breach_cause is null,
                    multiIf(forecast_calls is null, concat('no forecast of ', source, ' for the interval'),
                            staffed_agents is null,
                            if(staffing_hidden_reason != '', staffing_hidden_reason,
                               concat('the agents of ', source, ' are not seen')),
                            'the agents required for the forecast are not computable'),
                    '') as breach_cause_hidden_reason
        from joined
        -- Interval rows carry no day of their own (1970-01-01): theirs is the local day of interval_start.
        window patience_day as (
            partition by tenant, kind, source, grain,
                         if(grain in ('interval', 'call_type_interval'), toDate(interval_start, {tz:String}), day)
        )
    ),
    runs as (
        select
            *,
            -- Each met interval (or day) starts a new run; the breached ones after it share its run id.
            sum(1 - sla_breached) over (
                partition by tenant, source, grain order by interval_start, day rows unbounded preceding
            ) as run_id
        from figures
    )
select
    *,
    if(grain in ('interval', 'day'),
       toUInt32(if(sla_breached = 1, sum(sla_breached) over (
           partition by tenant, source, grain, run_id order by interval_start, day rows unbounded preceding), 0)),
       null) as streak,
    toUInt8(streak >= if(grain = 'day', chronic_after_days, chronic_after)) as chronic
from runs
settings join_use_nulls = 1;

-- The grains of `source_metrics` as plain views over all tenants and time, for ad-hoc questions (days in UTC).
create or replace view source_call_type_interval as
select * from source_metrics(tenant = '', from = '1970-01-01 00:00:00', until = '2100-01-01 00:00:00', tz = 'UTC')
where grain = 'call_type_interval';

create or replace view source_interval as
select * from source_metrics(tenant = '', from = '1970-01-01 00:00:00', until = '2100-01-01 00:00:00', tz = 'UTC')
where grain = 'interval';

create or replace view source_day as
select * from source_metrics(tenant = '', from = '1970-01-01 00:00:00', until = '2100-01-01 00:00:00', tz = 'UTC')
where grain = 'day';

drop view if exists cost_interval;

drop view if exists staffing_interval;

-- Customer calls arriving at the enterprise ACD, per tenant, over a period, at three grains: `interval`,
-- `day` (local days of {tz}) and `period`. Parameters as `source_metrics`. Routing figures are NULL where the
-- carrier routes (network-delivered). End-to-end figures (service level at 20 s from the first enqueue,
-- abandons against; abandon rate) are over every customer call, so they are NULL with `e2e_hidden_reason`
-- wherever some calls' outcomes are hidden: network-delivered (the carrier sends the vendors' calls past the
-- enterprise ACD, which sees only its own) and rows with an enterprise-routed redirect.
create or replace view call_metrics as
with
    calls as (
        select
            tenant,
            multiIf(grouping(interval_start) = 0, 'interval', grouping(day) = 0, 'day', 'period') as grain,
            interval_start,
            toDate(interval_start, {tz:String}) as day,
            sum(o.arrived) as arrived,
            acd_observed_sum(o.overflowed) as overflowed,
            if(countIf(o.overflowed is null) > 0, null, sum(o.overflowed_timeout)) as overflowed_timeout,
            if(countIf(o.overflowed is null) > 0, null, sum(o.overflowed_split)) as overflowed_split,
            if(countIf(o.overflowed is null) > 0, null, sum(o.overflowed_call_type)) as overflowed_call_type,
            if(countIf(o.overflowed is null) > 0, null, sum(o.overflow_wait_ms)) as overflow_wait_ms,
            if(countIf(o.redirect_accepted is null) > 0, null, sum(o.redirect_failed) + sum(o.redirect_returned))
                as redirects_failed_or_returned,
            sum(o.e2e_answered) as e2e_answered,
            sum(o.e2e_hidden) as e2e_hidden,
            toUInt8(countIf(o.overflowed is null) > 0) as routing_hidden,
            multiIf(routing_hidden = 1, anyIf(o.hidden_reason, o.overflowed is null),
                    e2e_hidden > 0, anyIf(o.hidden_reason, o.e2e_hidden > 0), '') as e2e_hidden_reason,
            if(e2e_hidden_reason != '', null, sum(o.e2e_abandoned)) as e2e_abandoned,
            if(e2e_hidden_reason != '' or countIf(indexOf(o.thresholds_s, 20) = 0) > 0, null,
               sum(arrayElement(o.e2e_answered_within, indexOf(o.thresholds_s, 20)))) as e2e_answered_in_20s,
            anyIf(o.hidden_reason, o.hidden_reason != '') as hidden_reason,
            anyIf(o.hidden_reason, o.overflowed is null) as routing_hidden_reason
        from overflow_interval as o final
        where ({tenant:String} = '' or o.tenant = {tenant:String})
          and interval_start >= {from:DateTime64(3, 'UTC')}
          and interval_start < {until:DateTime64(3, 'UTC')}
        group by grouping sets ((tenant, interval_start), (tenant, day), (tenant))
    )
select
    *,
    acd_overflow_rate(overflowed, arrived) as overflow_rate,
    acd_wait_before_overflow_s(overflow_wait_ms, overflowed_timeout) as wait_before_overflow_s,
    acd_service_level(e2e_answered_in_20s, arrived) as e2e_service_level_20s,
    acd_abandon_rate(e2e_abandoned, arrived) as e2e_abandon_rate
from calls;

create or replace view volume_interval as
with
    totals as (
        select
            interval_start,
            source,
            sum(offered) as offered,
            sum(answered) as answered,
            sum(abandoned) as abandoned
        from contact_volume_interval final
        group by interval_start, source
    )
select
    *,
    acd_abandon_rate(abandoned, offered) as abandon_rate
from totals;

-- The agents of each source as of a moment, from their latest state event (`acd_events`): the engine keeps
-- per-agent states only inside its partitions, and `adherence_live` lists only the agents out of adherence.
-- Parameters: {tenant}, {until} (the moment: events at or after it are not yet). One row per (tenant, source)
-- whose agents send state events; a source whose agents the setup hides has no row (its staffing is NULL with
-- `staffing_hidden_reason` in `source_metrics`). States as the engine reads them: a login alone is not ready
-- until a ready or contact event, and of two events in the same ms the later one on the stream wins; on queue =
-- available (ready) + on a contact + in after-contact work; logged-out agents are not counted, nor agents
-- whose last state event is more than 24 h old.
create or replace view agents_now as
with
    latest as (
        select
            tenant,
            JSONExtractString(payload, 'agent_id') as agent_id,
            argMax(JSONExtractString(payload, 'source'), (ts, stream_offset)) as source,
            argMax(type, (ts, stream_offset)) as last_type,
            max(ts) as last_ts
        from acd_events final
        where tenant = {tenant:String}
          and type in ('agent.login', 'agent.ready', 'agent.not_ready', 'agent.on_contact', 'agent.acw',
                       'agent.logout')
          and ts < {until:DateTime64(3, 'UTC')}
          -- A day back at most: the page asks every few seconds and raw events are kept 90 days; an agent with
          -- no state change in 24 h is not on a shift now.
          and ts >= {until:DateTime64(3, 'UTC')} - interval 24 hour
        group by tenant, agent_id
    )
select
    tenant,
    source,
    toUInt32(countIf(last_type != 'agent.logout')) as agents_logged_in,
    toUInt32(countIf(last_type in ('agent.ready', 'agent.on_contact', 'agent.acw'))) as agents_on_queue,
    toUInt32(countIf(last_type = 'agent.ready')) as agents_available,
    toUInt32(countIf(last_type in ('agent.on_contact', 'agent.acw'))) as agents_busy,
    toUInt32(countIf(last_type in ('agent.login', 'agent.not_ready'))) as agents_not_ready,
    max(last_ts) as states_as_of
from latest
group by tenant, source;
