-- Question: what does each source's contract settle to per billing period: its KPIs against target, penalties,
-- bonuses, earn-back, the invoice and its cost per contact, the verdict, and what the enterprise can check?
-- Parameters: {tenant:String}, {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (on interval_start).
-- Grain: one row per (source, billing period: month or week, as its terms say) with traffic or agents, from the
-- `settlement` view of the metric layer (every amount's definition is there). Periods partly outside the window
-- are settled to date (period_complete = 0); earn-back looks back no further than the window's start. NULL = not observable.
with

final as (
    select
        tenant,
        source,
        kind,
        billing_period,
        period_start,
        period_complete,
        cost_model,
        offered,
        answered,
        round(service_level, 4) as service_level,
        round(abandon_rate, 4) as abandon_rate,
        round(aht_s, 1) as aht_s,
        round(qa_score, 1) as qa_score,
        round(adherence, 4) as adherence,
        kpis_missed_names as kpis_missed,
        round(billed_amount, 2) as billed,
        round(interval_credits, 2) as interval_credits,
        round(kpi_penalty_amount, 2) as kpi_penalties,
        round(penalty_amount, 2) as penalty,
        round(bonus_amount, 2) as bonus,
        round(earn_back_amount, 2) as earn_back,
        round(invoice_amount, 2) as invoice,
        round(credits_owed, 2) as credits_owed,
        round(cost_per_contact, 2) as cost_per_contact,
        verdict,
        reported_contacts,
        observed_contacts,
        contacts_gap,
        round(reported_hours, 2) as reported_hours,
        round(observed_hours, 2) as observed_hours,
        unassessed,
        verdict_hidden_reason,
        cost_hidden_reason,
        reconciliation_hidden_reason
    from settlement(tenant = {tenant:String}, from = {from:DateTime64(3, 'UTC')},
                    until = {until:DateTime64(3, 'UTC')}, tz = 'UTC')
)

select * from final
order by tenant, period_start, kind, source
