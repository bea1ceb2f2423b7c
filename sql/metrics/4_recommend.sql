-- The metric layer, part 4: the figures of the staffing plans `acdscope recommend` weighs (`recommend_runs`),
-- with the dashboards' own formulas: a plan's cost is what each source's contract bills (`acd_gross_cost`, the
-- same call the source views price intervals with), and its customers' service end to end.

-- One row per (candidate, replicate) of {run}:
-- - cost = the sources' bills summed; NULL, with `cost_hidden_reason`, where a contract bills per period
--   (fixed or anchored), which a day cannot price.
-- - cost_per_contact = cost / customers answered (by any source: a customer counts once, however many legs).
-- - service_level = customers answered within the threshold from arrival / customers offered (abandons against).
-- - abandon_rate = customers who hung up / customers offered; in_house_share = customers the in-house center
--   answered / customers answered.
-- - occupancy = handle time / time on queue, every source's agents together (`acd_occupancy`): the check that a
--   plan's staffing is one a center could run (75-90 % at its busiest).
create or replace view recommend_figures as
select
    candidate,
    replicate,
    acd_observed_sum(acd_gross_cost(cost_model, rate, answered, handle_ms, scheduled_ms, on_queue_ms, open_ms,
                                    contracted_seats)) as cost,
    acd_cost_per_contact(cost, sum(customers_answered)) as cost_per_contact,
    acd_service_level(sum(customers_within), sum(customers)) as service_level,
    acd_abandon_rate(sum(customers_abandoned), sum(customers)) as abandon_rate,
    acd_share(sumIf(customers_answered, kind = 'in_house'), sum(customers_answered)) as in_house_share,
    acd_occupancy(sum(handle_ms), sum(on_queue_ms)) as occupancy,
    arrayStringConcat(groupUniqArrayIf(concat(source, ' is priced per billing period (', cost_model, ')'),
                                       cost_model in ('fixed', 'anchored')), '; ') as cost_hidden_reason
from recommend_runs
where run = {run:String}
group by candidate, replicate;
