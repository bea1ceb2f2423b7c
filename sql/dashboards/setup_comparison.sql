-- Question: how do the delivery setups and engagement models compare on the same demand?
-- Parameters: {from:DateTime64(3, 'UTC')}, {until:DateTime64(3, 'UTC')} (half-open, on interval_start).
-- Grain: one row per tenant (an operation, or a simulated scenario). Service levels at 20 s, abandons counted
-- against (`service_level_20s`, `e2e_service_level_20s` of the metric layer); the vendors are every vendor
-- together (the `kind` grain). NULL means the setup cannot observe it. Each label is as wide as the calls it
-- counts: `e2e_sl_20s` is over every customer call, so it is NULL (reason in `e2e_hidden_reason`) where some
-- calls are out of sight: network-delivered, where the enterprise ACD sees only the in-house calls (their
-- service level is `in_house_sl_20s`), and enterprise-routed, where redirected calls' outcomes are hidden.
with

tenants as (
    select
        tenant,
        any(setup) as setup,
        any(engagement) as engagement
    from source_terms final
    group by tenant
),

calls as (
    select *
    from call_metrics(tenant = '', from = {from:DateTime64(3, 'UTC')}, until = {until:DateTime64(3, 'UTC')}, tz = 'UTC')
    where grain = 'period'
),

kinds as (
    select *
    from source_metrics(tenant = '', from = {from:DateTime64(3, 'UTC')}, until = {until:DateTime64(3, 'UTC')}, tz = 'UTC')
    where grain = 'kind'
),

final as (
    select
        t.tenant as scenario,
        t.setup as setup,
        t.engagement as engagement,
        calls.arrived as arrived_at_acd,
        round(calls.overflow_rate, 4) as overflow_rate,
        round(calls.e2e_service_level_20s, 4) as e2e_sl_20s,
        calls.e2e_hidden_reason as e2e_hidden_reason,
        ih.offered as in_house_offered,
        round(ih.service_level_20s, 4) as in_house_sl_20s,
        v.offered as vendor_offered,
        round(v.service_level_20s, 4) as vendor_sl_20s,
        round(v.abandon_rate, 4) as vendor_abandon_rate,
        round(v.asa_s, 1) as vendor_asa_s,
        round(v.aht_s, 1) as vendor_aht_s,
        round(v.adherence, 4) as vendor_adherence,
        round(ih.adherence, 4) as in_house_adherence
    from tenants as t
    left join calls on calls.tenant = t.tenant
    left join kinds as ih on ih.tenant = t.tenant and ih.kind = 'in_house'
    left join kinds as v on v.tenant = t.tenant and v.kind = 'vendor'
    settings join_use_nulls = 1
)

select * from final
order by
    indexOf(['network_delivered', 'enterprise_routed', 'virtualized'], setup),
    multiIf(startsWith(engagement, 'targeted'), 1, startsWith(engagement, 'shared'), 2, 3)
