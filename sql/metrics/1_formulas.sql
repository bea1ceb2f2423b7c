-- The metric layer, part 1: every figure's formula, defined once, as a SQL function of summed counters.
-- Views and dashboards apply these to counters summed at their own grain (interval, day, period), so a ratio
-- is always a ratio of sums, never an average of ratios. A denominator of 0 gives NULL, as does a NULL
-- (not observable) counter: never 0, never 1. The layer holds no data, so it is not a numbered migration: it is
-- edited in place and applied whole after the migrations, every time (`create or replace` and `drop ... if
-- exists` only), so every server runs the definitions of the code it serves.

-- The sum of a counter the setup may hide: NULL as soon as one summed row could not observe it.
create or replace function acd_observed_sum as (counter) -> if(countIf(counter is null) > 0, null, sum(counter));

-- Service level at a threshold T: answered within T over offered, abandons counted against (the default),
-- ignored (those abandoned within T leave the denominator), in favour (they count as met), or with short
-- abandons left out of the denominator.
create or replace function acd_service_level as (answered_within, offered) -> answered_within / nullIf(offered, 0);
create or replace function acd_service_level_abandons_ignored as (answered_within, offered, abandoned_within) -> answered_within / nullIf(offered - abandoned_within, 0);
create or replace function acd_service_level_abandons_in_favour as (answered_within, offered, abandoned_within) -> (answered_within + abandoned_within) / nullIf(offered, 0);
create or replace function acd_service_level_short_excluded as (answered_within, offered, short_abandoned) -> answered_within / nullIf(offered - short_abandoned, 0);
-- Genesys Cloud's default: calls that flowed out of the queue to another (the overflow to a vendor after 30 s)
-- leave the denominator, so a queue is not judged on calls it handed on; NULL where flow-outs are not observed.
create or replace function acd_service_level_flowouts_excluded as (answered_within, offered, flowed_out) -> answered_within / nullIf(offered - flowed_out, 0);
-- The SLA is breached when the service level at the contract's threshold is under its target; NULL with no traffic.
create or replace function acd_sla_breached as (answered_within, offered, target) -> toUInt8(answered_within / nullIf(offered, 0) < target);

-- Speed, handling and outcomes.
create or replace function acd_asa_s as (wait_answered_ms, answered) -> wait_answered_ms / nullIf(answered, 0) / 1000;
create or replace function acd_aht_s as (handle_ms, handled) -> handle_ms / nullIf(handled, 0) / 1000;
create or replace function acd_abandon_rate as (abandoned, offered) -> abandoned / nullIf(offered, 0);
create or replace function acd_abandon_rate_excl_short as (abandoned, offered, short_abandoned) -> (abandoned - short_abandoned) / nullIf(offered - short_abandoned, 0);
create or replace function acd_transfer_rate as (transferred, handled) -> transferred / nullIf(handled, 0);
create or replace function acd_mean_service_s as (talk_ms, handled) -> talk_ms / nullIf(handled, 0) / 1000;
create or replace function acd_qa_score as (qa_sum, qa_count) -> qa_sum / nullIf(qa_count, 0);
create or replace function acd_csat as (csat_sum, csat_count) -> csat_sum / nullIf(csat_count, 0);
-- FCR proxy: handled calls whose caller did not call again within the repeat window.
create or replace function acd_fcr_proxy as (repeated, handled) -> 1 - repeated / nullIf(handled, 0);

-- Customer calls at the enterprise ACD: how many left the in-house queue, after how long in it.
create or replace function acd_overflow_rate as (overflowed, arrived) -> overflowed / nullIf(arrived, 0);
create or replace function acd_wait_before_overflow_s as (overflow_wait_ms, overflowed_timeout) -> overflow_wait_ms / nullIf(overflowed_timeout, 0) / 1000;

-- Staffing (Genesys): adherence = 1 - exception / scheduled; conformance = worked on queue / scheduled on queue.
create or replace function acd_adherence as (exception_ms, scheduled_ms) -> 1 - exception_ms / nullIf(scheduled_ms, 0);
create or replace function acd_conformance as (worked_on_queue_ms, scheduled_on_queue_ms) -> worked_on_queue_ms / nullIf(scheduled_on_queue_ms, 0);

-- Staffing, from agent state time in the interval it happened (`adherence_interval`). Agents on queue are
-- available, talking, holding or in wrap-up; occupancy = handling (talk, hold, wrap-up) / on-queue time;
-- utilisation = handling / scheduled time; shrinkage = 1 - on-queue / scheduled time; an average number of
-- agents is their time over the span it is averaged on. Where a vendor's agents are not seen, its interval
-- reports' staffed and handle time stand in for on-queue and handling time (no schedule: no utilisation or
-- shrinkage). Seat fill = the agents on queue while open / the seats the contract names (over 1: more).
create or replace function acd_occupancy as (handling_ms, worked_on_queue_ms) -> handling_ms / nullIf(worked_on_queue_ms, 0);
create or replace function acd_utilisation as (handling_ms, scheduled_ms) -> handling_ms / nullIf(scheduled_ms, 0);
create or replace function acd_shrinkage as (worked_on_queue_ms, scheduled_ms) -> 1 - worked_on_queue_ms / nullIf(scheduled_ms, 0);
create or replace function acd_seat_fill as (staffed_agents, contracted_seats) -> staffed_agents / nullIf(contracted_seats, 0);
create or replace function acd_average_agents as (agent_ms, span_ms) -> agent_ms / nullIf(span_ms, 0);

-- Required agents: the fewest agents n whose service level (answered within T over offered, abandons against)
-- reaches the target for the offered load a = calls x AHT / span. Erlang A (M/M/n+M) where the callers' patience
-- is observed, Erlang C (callers wait as long as it takes: an upper bound where they do not) where it is not.
-- No calls need no agents; an unknown volume, AHT or term gives NULL.
-- Erlang C: Erlang B by its recursion B(n) = a B(n-1) / (n + a B(n-1)), C(n) = n B / (n - a (1 - B)), service
-- level 1 - C(n, a) e^(-(n - a) T / AHT), searched up to a + 10 sqrt(a) + 20, where any target < 1 is met.
create or replace function acd_erlang_b_next as (a, b, n) -> a * b / (n + a * b);
create or replace function acd_erlang_c_service_level as (a, b, n, aht_s, threshold_s) -> if(n > a, 1 - n * b / (n - a * (1 - b)) * exp(-(n - a) * threshold_s / aht_s), 0);
create or replace function acd_erlang_c_agents as (a, aht_s, threshold_s, target) -> nullIf(arrayFold((acc, n) -> (acd_erlang_b_next(a, acc.1, n), if(acc.2 = 0 and acd_erlang_c_service_level(a, acd_erlang_b_next(a, acc.1, n), n, aht_s, threshold_s) >= target, n, acc.2)), range(1, toUInt32(a + 10 * sqrt(a) + 21)), (toFloat64(1), toUInt32(0))).2, 0);
-- Erlang A, in units of the AHT (service rate 1, abandon rate r = AHT / mean patience, threshold t = T / AHT;
-- Garnett, Mandelbaum & Reiman 2002). With k calls ahead a caller's queue states cost it Exp(n + (j + 1) r), j = k..0,
-- whatever ends each, so it is answered with probability n / (n + (k + 1) r) and by t with the chance that this
-- sum of exponentials with rates r (n / r + i), i = 1..k+1, is at most t: the (k+1)-th order statistic of n / r +
-- k + 1 Exp(r) variables, whose tail is e^(-(n + r) t) sum_(j <= k) [prod_(i <= j) (n / r + i) / i] (1 - e^(-r t))^j
-- (a negative-binomial sum of positive terms). The queue's states relative to n busy agents are q_0 = 1,
-- q_k = q_(k-1) a / (n + k r), pi_n = B / (1 + B (V - 1)) with V = sum q_k, so the service level is
-- 1 - pi_n (V - A), A = sum q_k P(answered by t | k). The sum runs until the ratio a / (n + k r) is at most 1/2 and
-- 60 terms more (or, with n > a, until (a / n)^k < e^-30), at most 3,000; a queue still heavier than 1e-9 of V
-- there is not met; a tail beyond the floating-point range (t of hundreds of AHTs) is 0. The service level grows
-- with n, so the fewest agents are found by bisection between a x target (no fewer can answer that share:
-- occupancy <= 1) and a + 10 sqrt(a) + 20, NULL if even that many miss the target.
create or replace function acd_erlang_b as (a, n) -> arrayFold((b, k) -> acd_erlang_b_next(a, b, k), range(1, toUInt32(n) + 1), toFloat64(1));
create or replace function acd_erlang_a_depth as (a, n, r) -> toUInt32(least(3000, greatest(ceil((2 * a - n) / r), 0) + 60, if(n > a, ceil(30 / log(n / a)) + 1, 3000)));
create or replace function acd_erlang_a_step as (a, n, r, p, e, acc, k) -> (acc.1 * a / (n + (k + 1) * r), acc.2 + acc.1, acc.3 + acc.1 * n / (n + (k + 1) * r) * (1 - if(isFinite(e * acc.5), least(1, e * acc.5), 0)), acc.4 * (n / r + k + 1) / (k + 1) * p, acc.5 + acc.4 * (n / r + k + 1) / (k + 1) * p);
create or replace function acd_erlang_a_queue as (a, n, r, t) -> arrayFold((acc, k) -> acd_erlang_a_step(a, n, r, 1 - exp(-r * t), exp(-(n + r) * t), acc, k), range(acd_erlang_a_depth(a, n, r)), (toFloat64(1), toFloat64(0), toFloat64(0), toFloat64(1), toFloat64(1)));
-- (arrayMap over one-element arrays names a value once, as a lambda's argument: a function's arguments are
-- substituted wherever they appear, lambdas' own included, and the query tree would grow with every use.)
create or replace function acd_erlang_a_level as (b, queue) -> if(queue.1 > 1e-9 * queue.2, 0, 1 - b / (1 + b * (queue.2 - 1)) * (queue.2 - queue.3));
create or replace function acd_erlang_a_service_level as (a, n, r, t) -> arrayMap((b, queue) -> acd_erlang_a_level(b, queue), [acd_erlang_b(a, n)], [acd_erlang_a_queue(a, n, r, t)])[1];
create or replace function acd_erlang_a_bisect as (a, r, t, target, lo, hi) -> arrayFold((acc, i) -> arrayMap(m -> if(acd_erlang_a_service_level(a, m, r, t) >= target, (acc.1, m), (toUInt32(m + 1), acc.2)), [toUInt32(intDiv(acc.1 + acc.2, 2))])[1], range(toUInt32(ceil(log2(hi - lo + 1)))), (toUInt32(lo), toUInt32(hi))).1;
create or replace function acd_erlang_a_checked as (a, n, r, t, target) -> if(acd_erlang_a_service_level(a, n, r, t) >= target, n, null);
create or replace function acd_erlang_a_agents as (a, aht_s, patience_s, threshold_s, target) -> arrayMap((load, r, t, goal) -> arrayMap(n -> acd_erlang_a_checked(load, n, r, t, goal), [acd_erlang_a_bisect(load, r, t, goal, greatest(1, floor(load * goal)), load + 10 * sqrt(load) + 20)])[1], [a], [aht_s / patience_s], [threshold_s / aht_s], [target])[1];
-- The callers' mean patience, where some abandoned: every caller's wait is patience observed up to that wait
-- (the answered ones' is censored), so the exponential estimate is the total wait over the abandons (Brown et al.
-- 2005, JASA 100(469)). No abandons: not observed (NULL), and Erlang C applies. The waits of calls that flowed
-- out to another queue are censored patience too but not counted here, so where many overflow the estimate is
-- low: the model then expects more abandons, and usually fewer agents, than the callers would give.
create or replace function acd_mean_patience_s as (wait_answered_ms, wait_abandoned_ms, abandoned) -> (wait_answered_ms + wait_abandoned_ms) / 1000 / nullIf(abandoned, 0);
create or replace function acd_required_model as (patience_s) -> if(patience_s is null, 'Erlang C', 'Erlang A');
create or replace function acd_required_agents as (calls, aht_s, span_s, threshold_s, target, patience_s) -> if(calls = 0, 0, if(ifNull(calls, 0) > 0 and ifNull(aht_s, 0) > 0 and ifNull(span_s, 0) > 0 and threshold_s is not null and target is not null, if(ifNull(patience_s, 0) > 0, acd_erlang_a_agents(toFloat64(assumeNotNull(calls)) * assumeNotNull(aht_s) / assumeNotNull(span_s), toFloat64(assumeNotNull(aht_s)), toFloat64(assumeNotNull(patience_s)), toFloat64(assumeNotNull(threshold_s)), toFloat64(assumeNotNull(target))), acd_erlang_c_agents(toFloat64(assumeNotNull(calls)) * assumeNotNull(aht_s) / assumeNotNull(span_s), toFloat64(assumeNotNull(aht_s)), toFloat64(assumeNotNull(threshold_s)), toFloat64(assumeNotNull(target)))), null));

-- Forecast against actual: a variance is actual / forecast - 1 (+0.5: half as much again as forecast); calls
-- count as sent beyond the forecast when they exceed it by more than the contract's tolerance (10 % by default). A breached interval's
-- cause: under-staffed (fewer agents on queue than required for the forecast calls and AHT), sent more than
-- forecast (where the staffing met the forecast's requirement), both, or neither (staffed for a forecast it got:
-- the queue did worse than the queueing model); NULL where the interval met its SLA or a term is not observable.
create or replace function acd_variance as (actual, forecast) -> actual / nullIf(forecast, 0) - 1;
create or replace function acd_sent_more_than_forecast as (offered, forecast_calls, tolerance) -> offered > forecast_calls * (1 + tolerance);
create or replace function acd_breach_cause as (breached, offered, forecast_calls, staffed_agents, required_for_forecast, tolerance) -> if(breached = 1 and offered is not null and forecast_calls is not null and staffed_agents is not null and required_for_forecast is not null, multiIf(acd_sent_more_than_forecast(offered, forecast_calls, tolerance) and staffed_agents < required_for_forecast, 'under-staffed and sent more than forecast', staffed_agents < required_for_forecast, 'under-staffed', acd_sent_more_than_forecast(offered, forecast_calls, tolerance), 'sent more than forecast', 'neither: staffed for the forecast it got'), null);

-- Cost: the contract's model applied to the quantities it bills in an interval (hourly models: rostered agent
-- time, time on queue, or the contracted seats over the time the source was open; NULL where the setup does
-- not show it, and for models priced per billing period: fixed fees and anchored bands), the SLA credit of a
-- breached interval, and cost per contact. A contact is a customer call answered: the second leg of an internal
-- transfer is the same contact, billed and divided once.
create or replace function acd_gross_cost as (cost_model, rate, answered, handle_ms, scheduled_ms, on_queue_ms, open_ms, seats) -> multiIf(cost_model = 'per_contact', rate * answered, cost_model = 'per_handled_minute', rate * handle_ms / 60000, cost_model in ('loaded_hourly', 'per_agent_hour'), rate * scheduled_ms / 3600000, cost_model = 'per_productive_hour', rate * on_queue_ms / 3600000, cost_model = 'per_seat_hour', rate * seats * open_ms / 3600000, null);
create or replace function acd_sla_credit as (gross_cost, breached, sla_credit) -> if(breached, gross_cost * sla_credit, 0);
create or replace function acd_cost_per_contact as (net_cost, answered) -> net_cost / nullIf(answered, 0);
-- Settlement per billing period. Anchored pricing: the base fee buys the baseline within +/- band; contacts above
-- the band are charged the marginal rate, those below it credited theirs. A KPI is worse than a bound when under
-- it (over it where less is better: abandonment, AHT); a tier's share applies when the KPI is worse than its
-- bound (a penalty) or not worse (a bonus), the deepest tier reached alone. A KPI not observed gives NULL, never
-- a tier. A cap is a share of the billed amount (none: uncapped).
create or replace function acd_anchored_amount as (contacts, baseline, band, base_fee, above_rate, below_rate) -> base_fee + greatest(0, contacts - baseline * (1 + band)) * above_rate - greatest(0, baseline * (1 - band) - contacts) * below_rate;
create or replace function acd_kpi_worse as (value, bound, lower_is_better) -> if(lower_is_better = 1, value > bound, value < bound);
create or replace function acd_kpi_met as (value, target, lower_is_better) -> if(value is null, null, toUInt8(not acd_kpi_worse(value, target, lower_is_better)));
create or replace function acd_tier_share as (value, bounds, shares, lower_is_better, penalty) -> if(value is null, null, arrayFold((acc, bound, share) -> greatest(acc, if(acd_kpi_worse(value, bound, lower_is_better) = penalty, share, 0)), bounds, shares, toFloat64(0)));
create or replace function acd_capped as (amount, cap, billed) -> if(cap is null, amount, least(amount, cap * billed));
-- Value for money: service level x FCR proxy per unit of cost per contact.
create or replace function acd_value as (service_level, fcr_proxy, cost_per_contact) -> service_level * fcr_proxy / nullIf(cost_per_contact, 0);
-- A part's share of a whole: calls sent to a vendor by a split out of those that arrived, a source's value.
create or replace function acd_share as (part, whole) -> part / nullIf(whole, 0);

-- The grain of a row of `source_metrics`, from the grouping set it was summed in.
create or replace function acd_source_grain as (interval_start, day, source) -> multiIf(grouping(interval_start) = 0, 'interval', grouping(day) = 0, 'day', grouping(source) = 0, 'period', 'kind');
