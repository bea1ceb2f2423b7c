"""Erlang B/C/A formulas against textbook values, hand-derived cases, identities and an independent ODE solve."""

from __future__ import annotations

import math

import pytest

from producers.simulator.calibration import erlang_c_agents
from streams.engine.queueing import ErlangA
from streams.engine.queueing import agents_for_target
from streams.engine.queueing import erlang_a
from streams.engine.queueing import erlang_b
from streams.engine.queueing import erlang_c_asa
from streams.engine.queueing import erlang_c_service_level
from streams.engine.queueing import erlang_c_wait_probability
from streams.engine.queueing import occupancy
from streams.engine.queueing import offered_load

# pyworkforce's test case: 100 calls per 30 min, AHT 180 s -> 10 Erlangs; 14 agents, 20 s target.
TEXTBOOK_LOAD = offered_load(100, 1800, 180)
AHT = 180.0
LAM = 100 / 1800


def example_a() -> ErlangA:
    """The brief's Erlang A case: the textbook load on 10 agents, mean patience 120 s."""
    return erlang_a(LAM, AHT, 10, 120.0)


def test_offered_load_textbook() -> None:
    assert math.isclose(TEXTBOOK_LOAD, 10.0, abs_tol=1e-12)


def test_erlang_b_known_values() -> None:
    assert erlang_b(10, 10.0) == pytest.approx(0.2146, abs=5e-5)
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(1, 3.0) == pytest.approx(3.0 / 4.0, abs=1e-15)
    assert erlang_b(5, 0.0) == 0.0


def test_erlang_b_matches_the_factorial_formula() -> None:
    a, c = 7.3, 9
    direct = (a**c / math.factorial(c)) / sum(a**k / math.factorial(k) for k in range(c + 1))
    assert erlang_b(c, a) == pytest.approx(direct, rel=1e-13)


def test_erlang_c_textbook_case() -> None:
    assert erlang_c_wait_probability(14, TEXTBOOK_LOAD) == pytest.approx(0.1741, abs=5e-4)
    assert erlang_c_service_level(14, TEXTBOOK_LOAD, AHT, 20) == pytest.approx(0.888, abs=1e-3)
    assert erlang_c_asa(14, TEXTBOOK_LOAD, AHT) == pytest.approx(0.1741 * 180 / 4, abs=0.01)
    assert occupancy(14, TEXTBOOK_LOAD) == pytest.approx(0.714, abs=5e-4)


def test_erlang_c_raw_positions_for_80_in_20_is_14() -> None:
    needed = next(c for c in range(11, 40) if erlang_c_service_level(c, TEXTBOOK_LOAD, AHT, 20) >= 0.8)
    assert needed == 14


def test_erlang_c_matches_the_factorial_formula() -> None:
    a, c = 10.0, 14
    top = a**c / math.factorial(c) * c / (c - a)
    direct = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    assert erlang_c_wait_probability(c, a) == pytest.approx(direct, rel=1e-13)


def test_erlang_c_service_level_ends() -> None:
    wait = erlang_c_wait_probability(14, TEXTBOOK_LOAD)
    assert erlang_c_service_level(14, TEXTBOOK_LOAD, AHT, 0) == pytest.approx(1 - wait, abs=1e-15)
    assert erlang_c_service_level(14, TEXTBOOK_LOAD, AHT, math.inf) == 1.0


@pytest.mark.parametrize("agents", [10, 9])
def test_unstable_load_raises(agents: int) -> None:
    with pytest.raises(ValueError, match="unstable"):
        erlang_c_wait_probability(agents, 10.0)
    with pytest.raises(ValueError, match="unstable"):
        erlang_c_service_level(agents, 10.0, AHT, 20)
    with pytest.raises(ValueError, match="unstable"):
        erlang_c_asa(agents, 10.0, AHT)
    with pytest.raises(ValueError, match="unstable"):
        occupancy(agents, 10.0)
    with pytest.raises(ValueError, match="unstable"):
        erlang_a(LAM, AHT, agents, math.inf)


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="agents"):
        erlang_b(-1, 1.0)
    with pytest.raises(ValueError, match="offered load"):
        erlang_b(3, -0.5)
    with pytest.raises(ValueError, match="target_s"):
        erlang_c_service_level(14, 10.0, AHT, -1)
    with pytest.raises(ValueError, match="agents"):
        erlang_a(LAM, AHT, 0, 120.0)
    with pytest.raises(ValueError, match="mean_patience_s"):
        erlang_a(LAM, AHT, 10, 0.0)
    with pytest.raises(ValueError, match="abandons"):
        example_a().service_level(20, "ignored")  # type: ignore[arg-type]


def test_large_center_does_not_overflow() -> None:
    c, a = 500, 490.0
    wait = erlang_c_wait_probability(c, a)
    assert 0 < wait < 1
    no_patience = erlang_a(a / AHT, AHT, c, math.inf)
    assert no_patience.wait_probability == pytest.approx(wait, abs=1e-10)


def test_erlang_a_without_abandonment_is_erlang_c() -> None:
    for patience in (math.inf, 1e9):  # theta = 0 exactly, and theta = 1e-9
        result = erlang_a(LAM, AHT, 14, patience)
        assert result.wait_probability == pytest.approx(erlang_c_wait_probability(14, 10.0), abs=1e-6)
        assert result.service_level(20) == pytest.approx(erlang_c_service_level(14, 10.0, AHT, 20), abs=1e-6)
        assert result.asa_all == pytest.approx(erlang_c_asa(14, 10.0, AHT), abs=1e-5)
        assert result.asa_answered == pytest.approx(erlang_c_asa(14, 10.0, AHT), abs=1e-5)
        assert result.abandon_probability == pytest.approx(0.0, abs=1e-6)
        assert result.occupancy == pytest.approx(occupancy(14, 10.0), abs=1e-6)


def test_erlang_a_hand_case_single_agent() -> None:
    # c = 1, lambda = mu = theta = 1: pi_0 = pi_1 = 1/Z, pi_{1+k} = 1/((k+1)! Z), so Z = e;
    # E[Lq] = sum k/(k+1)! / e = 1/e, P(abandon) = theta E[Lq] / lambda = 1/e.
    result = erlang_a(1.0, 1.0, 1, 1.0)
    pi = result.state_probabilities
    e = math.e
    assert pi[0] == pytest.approx(1 / e, abs=1e-12)
    assert pi[1] == pytest.approx(1 / e, abs=1e-12)
    assert pi[2] == pytest.approx(1 / (2 * e), abs=1e-12)
    assert pi[4] == pytest.approx(1 / (24 * e), abs=1e-12)
    assert result.wait_probability == pytest.approx(1 - 1 / e, abs=1e-12)
    assert result.mean_queue_length == pytest.approx(1 / e, abs=1e-12)
    assert result.abandon_probability == pytest.approx(1 / e, abs=1e-12)
    assert result.asa_all == pytest.approx(1 / e, abs=1e-12)
    assert result.occupancy == pytest.approx(1 - 1 / e, abs=1e-12)  # P(agent busy) = P(N >= 1)


def test_erlang_a_flow_balance_identities() -> None:
    r = example_a()
    pi = r.state_probabilities
    c, cmu, theta, lam = r.agents, r.agents * r.service_rate, r.abandon_rate, r.arrival_rate
    queue = pi[c:]
    assert math.fsum(pi) == pytest.approx(1.0, abs=1e-12)
    # Abandon flow = theta per waiting call.
    assert lam * r.abandon_probability == pytest.approx(theta * r.mean_queue_length, rel=1e-12)
    # The same probability from the tagged customer: it leaves unanswered w.p. 1 - c mu/(c mu + (k+1) theta).
    tagged = math.fsum(q * (k + 1) * theta / (cmu + (k + 1) * theta) for k, q in enumerate(queue))
    assert tagged == pytest.approx(r.abandon_probability, abs=1e-12)
    # Served flow: lambda (1 - P(abandon)) = mu E[busy agents].
    busy = math.fsum(min(n, c) * p for n, p in enumerate(pi))
    assert lam * (1 - r.abandon_probability) == pytest.approx(r.service_rate * busy, rel=1e-12)
    assert r.occupancy == pytest.approx(busy / c, rel=1e-12)
    # Little, both ways: E[W | k ahead] = (k+1)/(c mu + (k+1) theta).
    tagged_wait = math.fsum(q * (k + 1) / (cmu + (k + 1) * theta) for k, q in enumerate(queue))
    assert tagged_wait == pytest.approx(r.asa_all, rel=1e-12)
    # Waits split into answered and abandoned parts; an answered call waits less on average than all waiters.
    assert 0 < r.asa_answered < r.asa_all / r.wait_probability


def test_erlang_a_overload_is_stable() -> None:
    # a = 15 on 10 agents: at most c mu is served, so P(abandon) >= 1 - c/a.
    r = erlang_a(15 / AHT, AHT, 10, 60.0)
    assert r.abandon_probability > 1 - 10 / 15
    assert r.wait_probability < 1
    assert 0 < r.service_level(20) < 1 - r.abandon_probability


def test_service_level_is_monotone_and_bounded() -> None:
    r = example_a()
    targets = [0.0, 1.0, 5.0, 10.0, 20.0, 60.0, 300.0, 3600.0]
    against = [r.service_level(t) for t in targets]
    in_favour = [r.service_level(t, "in_favour") for t in targets]
    assert against == sorted(against)
    assert in_favour == sorted(in_favour)
    assert against[0] == pytest.approx(1 - r.wait_probability, abs=1e-15)
    assert in_favour[0] == pytest.approx(1 - r.wait_probability, abs=1e-15)
    assert all(s <= 1 - r.abandon_probability + 1e-12 for s in against)
    assert all(a <= f <= 1.0 for a, f in zip(against, in_favour, strict=True))
    assert against[-1] == pytest.approx(1 - r.abandon_probability, abs=1e-9)
    assert in_favour[-1] == pytest.approx(1.0, abs=1e-9)
    assert r.service_level(math.inf) == pytest.approx(1 - r.abandon_probability, abs=1e-15)


def _rk4_absorbed(r: ErlangA, target_s: float, steps: int) -> tuple[float, float]:
    """Integrate the tagged customer's forward Kolmogorov equations directly in time, with classic RK4."""
    queue = list(r.state_probabilities[r.agents :])
    cmu, theta = r.agents * r.service_rate, r.abandon_rate
    last = len(queue) - 1

    def rhs(state: list[float]) -> list[float]:
        p = state[: last + 1]
        out = [
            -(cmu + (j + 1) * theta) * p[j] + ((cmu + (j + 1) * theta) * p[j + 1] if j < last else 0.0)
            for j in range(last + 1)
        ]
        return [*out, cmu * p[0], theta * sum(p)]

    y = [*queue, 0.0, 0.0]
    h = target_s / steps
    for _ in range(steps):
        k1 = rhs(y)
        k2 = rhs([v + h / 2 * d for v, d in zip(y, k1, strict=True)])
        k3 = rhs([v + h / 2 * d for v, d in zip(y, k2, strict=True)])
        k4 = rhs([v + h * d for v, d in zip(y, k3, strict=True)])
        y = [
            v + h / 6 * (d1 + 2 * d2 + 2 * d3 + d4)
            for v, d1, d2, d3, d4 in zip(y, k1, k2, k3, k4, strict=True)
        ]
    return y[-2], y[-1]


def test_uniformization_matches_direct_ode_integration() -> None:
    r = example_a()
    answered, abandoned = _rk4_absorbed(r, 20.0, 400)
    immediate = 1 - r.wait_probability
    assert r.service_level(20) == pytest.approx(immediate + answered, abs=1e-6)
    assert r.service_level(20, "in_favour") == pytest.approx(immediate + answered + abandoned, abs=1e-6)


def test_first_queue_positions_by_hand() -> None:
    # c = 1, lambda = mu = theta = 1. With j ahead the tagged call stays Exp(mu + (j+1) theta) and then
    # advances w.p. (mu + j theta)/(mu + (j+1) theta). k = 0: one Exp(2) phase, advance 1/2.
    # k = 1: Exp(3) then Exp(2), advance 2/3 then 1/2; the sum's CDF is 1 - 3 e^{-2t} + 2 e^{-3t}.
    # Calls with k >= 2 ahead add something positive but at most their own mass.
    r = erlang_a(1.0, 1.0, 1, 1.0)
    t = 0.5
    pi = r.state_probabilities
    k0 = pi[1] * (1 / 2) * (1 - math.exp(-2 * t))
    k1 = pi[2] * (2 / 3) * (1 / 2) * (1 - 3 * math.exp(-2 * t) + 2 * math.exp(-3 * t))
    sl = r.service_level(t)
    assert pi[0] + k0 + k1 < sl < pi[0] + k0 + k1 + math.fsum(pi[3:])


@pytest.mark.parametrize(
    ("calls_per_hour", "aht_s", "target"),
    [(200, 180.0, 0.8), (430, 300.0, 0.8), (60, 240.0, 0.9), (5, 300.0, 0.8)],
)
def test_agents_for_target_without_abandonment_is_the_erlang_c_staffing(
    calls_per_hour: int, aht_s: float, target: float
) -> None:
    """With infinite patience Erlang A is Erlang C: the fewest agents equal the calibration's own Erlang C walk
    (`erlang_c_agents`, from `erlang_c_service_level`), e.g. 14 for the textbook 100 calls per 30 min at 180 s."""
    expected = erlang_c_agents(calls_per_hour, aht_s, 20, target)
    assert agents_for_target(calls_per_hour / 3600, aht_s, math.inf, 20, target) == expected
    if (calls_per_hour, aht_s, target) == (200, 180.0, 0.8):
        assert expected == 14


def test_agents_for_target_with_patience_is_the_first_erlang_a_that_meets_both_goals() -> None:
    """200 calls an hour at 180 s, patience 180 s: 12 agents answer 80.2 % within 20 s but 5.3 % abandon, so a
    5 % abandonment cap needs 13 (3.2 %); 80 % alone needs 12; and no calls need no agents."""
    assert agents_for_target(200 / 3600, 180.0, 180.0, 20, 0.8) == 12
    assert agents_for_target(200 / 3600, 180.0, 180.0, 20, 0.8, max_abandon=0.05) == 13
    assert agents_for_target(0.0, 180.0, 180.0, 20, 0.8) == 0
    assert erlang_a(200 / 3600, 180.0, 12, 180.0).abandon_probability > 0.05
    assert erlang_a(200 / 3600, 180.0, 13, 180.0).abandon_probability <= 0.05
