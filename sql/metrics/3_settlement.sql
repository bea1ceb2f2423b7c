-- The metric layer, part 3, applied after part 2 (see 1_formulas.sql for why it is not a migration): contract
-- settlement, per source and billing period, from the `day` rows of `source_metrics` (the counters the
-- dashboards sum) and the contracts `acdscope terms` loads (`source_terms`, `contract_kpis`).

-- One row per (tenant, source, billing period) with traffic or agents in [{from}, {until}); parameters as
-- `source_metrics` ({tz}: the local days the periods are made of: a month is its local days). Per period:
-- - KPIs over the period, from its summed counters (never an average of interval figures): service level at the
--   contract's threshold (abandons against), abandonment, AHT (s), QA score, adherence; per KPI the contract
--   holds (`contract_kpis` of the terms' own load) its attainment, whether it met the target, and the share of
--   the deepest penalty or bonus tier reached; NULL, with `unassessed` saying why, where the setup does not
--   show it.
-- - billed_amount: what the cost model bills for the period: a fixed fee, the anchored band on contacts
--   answered, else the sum of the intervals' cost (`acd_gross_cost`): contacts, handled minutes, rostered,
--   productive or seat hours. NULL with `cost_hidden_reason` where the setup hides what it bills.
-- - penalty_amount: the intervals' SLA credits plus the KPI penalties (their shares of billed_amount), at most
--   penalty_cap of it; bonus_amount: the KPI bonuses, at most bonus_cap, paid only in a period that met every
--   KPI it was assessed on; earn_back_amount: the penalty of the period earn_back_after periods back, returned
--   when every period since met every KPI. Periods count as they come in the data (a period without traffic
--   neither breaks nor extends a run), and only from {from} on: settle from the contract's start.
-- - invoice = billed - penalty + bonus + earn-back; credits_owed = penalty - earn-back (the enterprise's, net);
--   cost_per_contact = invoice / contacts answered, for every source on one basis (in-house: its loaded cost).
-- - verdict: 'chronic' (a KPI missed in chronic_after_periods periods in a row, this one included), 'at risk' (a
--   KPI missed this period), 'on track' (every assessed KPI met); NULL where the contract holds no KPI or none
--   could be assessed (`verdict_hidden_reason`).
-- - Reconciliation: what the vendor's own interval reports claim (contacts answered and hours on queue: what it
--   bills on, where it reports) against what the enterprise saw itself: contacts answered and hours on queue
--   in its ACD where the vendor's agents log in (virtualized), the redirects the vendor accepted (enterprise-routed,
--   against the contacts the vendor says it was offered: a failed hand-off never reached it; attributable where
--   it was the day's only vendor sent calls), nothing where the carrier routes (network-delivered):
--   `reconciliation_hidden_reason` says what cannot be checked.
-- - period_complete: 1 when the whole period lies in [{from}, {until}); a period to date otherwise.
create or replace view settlement as
with
    terms as (
        select * from source_terms final
    ),
    days as (
        select d.*, t.billing_period as billing_period
        from source_metrics(tenant = {tenant:String}, from = {from:DateTime64(3, 'UTC')},
                            until = {until:DateTime64(3, 'UTC')}, tz = {tz:String}) as d
        inner join terms as t on t.tenant = d.tenant and t.source = d.source
        where d.grain = 'day'
    ),
    sent as (
        -- The calls the enterprise ACD sent each vendor (overflow, split or call type), by local day, and how
        -- many vendors it sent calls to that day.
        select
            tenant,
            to_source as source,
            toDate(interval_start, {tz:String}) as day,
            sum(overflowed) as sent,
            uniqExact(to_source) over (partition by tenant, day) as vendors_sent
        from overflow_target_interval final
        where ({tenant:String} = '' or tenant = {tenant:String})
          and interval_start >= {from:DateTime64(3, 'UTC')}
          and interval_start < {until:DateTime64(3, 'UTC')}
        group by tenant, source, day
    ),
    handed as (
        -- Of those, the redirects the vendor accepted (enterprise-routed: a failed or returned hand-off puts the
        -- caller back in the enterprise queue, so the vendor never had the call), counted per tenant and day.
        select tenant, toDate(interval_start, {tz:String}) as day, acd_observed_sum(redirect_accepted) as accepted
        from overflow_interval final
        where ({tenant:String} = '' or tenant = {tenant:String})
          and interval_start >= {from:DateTime64(3, 'UTC')}
          and interval_start < {until:DateTime64(3, 'UTC')}
        group by tenant, day
    ),
    periods as (
        select
            d.tenant as tenant,
            d.source as source,
            if(d.billing_period = 'week', toMonday(d.day), toStartOfMonth(d.day)) as period_start,
            any(d.kind) as kind,
            if(any(d.billing_period) = 'week', period_start + 7, addMonths(period_start, 1)) as period_end,
            min(d.day) as first_day,
            max(d.day) as last_day,
            sum(d.offered) as offered,
            sum(d.answered) as answered,
            sum(d.abandoned) as abandoned,
            acd_observed_sum(d.answered_in_sla) as answered_in_sla,
            sum(d.handled) as handled,
            sum(d.handle_ms) as handle_ms,
            acd_observed_sum(d.qa_sum) as qa_sum,
            acd_observed_sum(d.qa_count) as qa_count,
            acd_observed_sum(d.exception_ms) as exception_ms,
            acd_observed_sum(d.scheduled_ms) as scheduled_ms,
            acd_observed_sum(d.worked_on_queue_ms) as on_queue_ms,
            countIf(d.staffing_basis = 'vendor report') as reported_days,
            acd_observed_sum(d.gross_cost) as gross_cost,
            sum(d.sla_credit_amount) as interval_credits,
            sum(d.intervals_breached) as intervals_breached,
            sum(ifNull(s.sent, 0)) as sent_to_vendor,
            -- Accepted hand-offs are counted per tenant: they are the vendor's on days it was the only one sent
            -- calls, and not attributable (NULL) over a period with a day that shared them among vendors.
            acd_observed_sum(if(s.sent is null, 0, if(s.vendors_sent = 1, h.accepted, null))) as accepted_by_vendor,
            anyIf(d.hidden_reason, d.hidden_reason != '') as hidden_reason,
            anyIf(d.schedule_hidden_reason, d.schedule_hidden_reason != '') as schedule_hidden_reason,
            anyIf(d.cost_hidden_reason, d.cost_hidden_reason != '') as interval_cost_hidden_reason
        from days as d
        left join sent as s on s.tenant = d.tenant and s.source = d.source and s.day = d.day
        left join handed as h on h.tenant = d.tenant and h.day = d.day
        group by tenant, source, period_start
    ),
    figures as (
        select
            p.*,
            t.setup as setup,
            t.cost_model as cost_model,
            t.rate as rate,
            t.billing_period as billing_period,
            t.penalty_cap as penalty_cap,
            t.bonus_cap as bonus_cap,
            t.earn_back_after as earn_back_after,
            t.chronic_after_periods as chronic_after_periods,
            t.version as terms_version,
            acd_service_level(answered_in_sla, offered) as service_level,
            acd_abandon_rate(abandoned, offered) as abandon_rate,
            acd_aht_s(handle_ms, handled) as aht_s,
            acd_qa_score(qa_sum, qa_count) as qa_score,
            acd_adherence(exception_ms, scheduled_ms) as adherence,
            multiIf(t.cost_model = 'fixed', t.rate,
                    t.cost_model = 'anchored',
                    acd_anchored_amount(answered, t.anchored_baseline, t.anchored_band, t.anchored_base_fee,
                                        t.anchored_above_rate, t.anchored_below_rate),
                    gross_cost) as billed_amount
        from periods as p
        inner join terms as t on t.tenant = p.tenant and t.source = p.source
    ),
    assessed as (
        select
            f.tenant as tenant,
            f.source as source,
            f.period_start as period_start,
            countIf(k.kpi != '') as kpis,
            -- (In the order of their names, so that lists of them read the same every time.)
            arraySort(x -> x.1, groupArrayIf((k.kpi, multiIf(k.kpi = 'service_level', f.service_level, k.kpi = 'abandonment',
                                         f.abandon_rate, k.kpi = 'aht', f.aht_s, k.kpi = 'qa', f.qa_score,
                                         f.adherence), k.target, k.lower_is_better, k.penalty_bounds,
                          k.penalty_shares, k.bonus_bounds, k.bonus_shares), k.kpi != '')) as terms
        from figures as f
        left join (select * from contract_kpis final) as k
            on k.tenant = f.tenant and k.source = f.source and k.version = f.terms_version
        group by tenant, source, period_start
    ),
    settled as (
        select
            f.*,
            a.kpis as kpis,
            arrayMap(x -> x.1, a.terms) as kpi_names,
            arrayMap(x -> x.2, a.terms) as attained,
            arrayMap(x -> acd_kpi_met(x.2, x.3, x.4), a.terms) as met,
            toUInt32(arrayCount(x -> x is not null, attained)) as kpis_assessed,
            toUInt32(arrayCount(x -> x = 0, met)) as kpis_missed,
            arrayStringConcat(arrayFilter((name, m) -> m = 0, kpi_names, met), ', ') as kpis_missed_names,
            arrayStringConcat(arrayMap(
                name -> concat(name, ': ', multiIf(
                    name = 'adherence' and f.schedule_hidden_reason != '', f.schedule_hidden_reason,
                    name != 'adherence' and f.hidden_reason != '', f.hidden_reason,
                    name = 'qa', 'no QA evaluation in the period',
                    name = 'adherence', concat('no schedule of ', f.source, ' in the period'),
                    'no call in the period')),
                arrayFilter((name, value) -> value is null, kpi_names, attained)), '; ') as unassessed,
            arraySum(arrayMap(x -> ifNull(acd_tier_share(x.2, x.5, x.6, x.4, 1), 0), a.terms)) as kpi_penalty_share,
            arraySum(arrayMap(x -> ifNull(acd_tier_share(x.2, x.7, x.8, x.4, 0), 0), a.terms)) as kpi_bonus_share,
            f.billed_amount * kpi_penalty_share as kpi_penalty_amount,
            acd_capped(f.interval_credits + kpi_penalty_amount, f.penalty_cap, f.billed_amount) as penalty_amount,
            if(kpis_assessed > 0 and kpis_missed = 0,
               acd_capped(f.billed_amount * kpi_bonus_share, f.bonus_cap, f.billed_amount), 0) as bonus_amount,
            toUInt8(kpis_assessed > 0 and kpis_missed = 0) as all_met,
            toUInt8(kpis_missed > 0) as missed
        from figures as f
        inner join assessed as a
            on a.tenant = f.tenant and a.source = f.source and a.period_start = f.period_start
    ),
    sequenced as (
        select
            *,
            groupArray(ifNull(penalty_amount, 0)) over history as penalties_so_far,
            groupArray(all_met) over history as met_so_far,
            groupArray(missed) over history as missed_so_far,
            length(met_so_far) as periods_so_far
        from settled
        window history as (
            partition by tenant, source order by period_start rows between unbounded preceding and current row
        )
    )
select
    tenant,
    source,
    kind,
    setup,
    cost_model,
    billing_period,
    period_start,
    period_end,
    toUInt8(toDateTime(period_start, {tz:String}) >= {from:DateTime64(3, 'UTC')}
            and toDateTime(period_end, {tz:String}) <= {until:DateTime64(3, 'UTC')}) as period_complete,
    first_day,
    last_day,
    offered,
    answered,
    service_level,
    abandon_rate,
    aht_s,
    qa_score,
    adherence,
    kpis,
    kpis_assessed,
    kpis_missed,
    kpis_missed_names,
    unassessed,
    intervals_breached,
    billed_amount,
    interval_credits,
    kpi_penalty_share,
    kpi_penalty_amount,
    penalty_amount,
    kpi_bonus_share,
    bonus_amount,
    if(earn_back_after is not null and periods_so_far > earn_back_after
       and arrayAll(x -> x = 1, arraySlice(met_so_far, -toInt64(earn_back_after))),
       penalties_so_far[periods_so_far - earn_back_after], 0) as earn_back_amount,
    billed_amount - penalty_amount + bonus_amount + earn_back_amount as invoice_amount,
    penalty_amount - earn_back_amount as credits_owed,
    acd_cost_per_contact(invoice_amount, answered) as cost_per_contact,
    if(billed_amount is null, interval_cost_hidden_reason, '') as cost_hidden_reason,
    multiIf(kpis_assessed = 0, null,
            periods_so_far >= chronic_after_periods
            and arrayAll(x -> x = 1, arraySlice(missed_so_far, -toInt64(chronic_after_periods))), 'chronic',
            kpis_missed > 0, 'at risk', 'on track') as verdict,
    multiIf(kpis = 0, concat('the terms of ', source, ' hold it to no KPI'),
            kpis_assessed = 0, concat('no KPI of ', source, ' is observable: ', unassessed), '')
        as verdict_hidden_reason,
    -- What the vendor's reports claim, and what the enterprise saw itself.
    if(kind = 'vendor' and reported_days > 0, answered, null) as reported_contacts,
    if(kind = 'vendor' and reported_days > 0, offered, null) as reported_offered,
    if(kind = 'vendor' and reported_days > 0, on_queue_ms / 3600000, null) as reported_hours,
    multiIf(kind != 'vendor', null, setup = 'virtualized', answered,
            setup = 'enterprise_routed', accepted_by_vendor, null) as observed_contacts,
    if(kind = 'vendor' and setup = 'virtualized', on_queue_ms / 3600000, null) as observed_hours,
    multiIf(setup = 'enterprise_routed', reported_offered, reported_contacts) - observed_contacts as contacts_gap,
    reported_hours - observed_hours as hours_gap,
    multiIf(kind != 'vendor', '',
            setup = 'network_delivered',
            'network-delivered: the carrier routes the vendor''s calls; the enterprise sees none of its calls or agents, so the bill can only be taken from the vendor''s own reports',
            setup = 'enterprise_routed' and observed_contacts is null,
            'enterprise-routed with calls sent to several vendors on one day: the accepted hand-offs are counted per tenant, not per vendor; its agents'' hours are not seen',
            setup = 'enterprise_routed',
            'enterprise-routed: the hand-offs the vendor accepted are checked against the calls it reports offered; its agents'' hours are not seen',
            'virtualized: the vendor''s agents work on the enterprise ACD, which is the record: there is no vendor report to check, its invoice is checked against the hours and contacts observed')
        as reconciliation_hidden_reason
from sequenced
settings join_use_nulls = 1;
