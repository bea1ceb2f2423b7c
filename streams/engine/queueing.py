"""Queueing formulas (Erlang B, C, A), written by us as the independent check of the contact-center simulator.

Pure float arithmetic with `math` only: no I/O, no clock, no randomness, and nothing imported from the simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

# The Erlang A chain is infinite; we keep states until the mass we drop is provably below this. 1e-12 would
# do for probabilities; the extra digits keep k-weighted moments such as E[Lq] = Σ k·π_{c+k} exact to 1e-12.
STATIONARY_TAIL = 1e-15
# Truncation error allowed in the uniformization series for one service level.
TRANSIENT_TOL = 1e-14
# A queue needing more states than this means patience is far too long for the overload to be useful.
MAX_QUEUE_STATES = 1_000_000

AbandonCounting = Literal["against", "in_favour"]


def _check_agents(c: int, minimum: int) -> None:
    if isinstance(c, bool) or not isinstance(c, int) or c < minimum:
        raise ValueError(f"agents must be an int >= {minimum}, got {c!r}")


def _check_load(a: float) -> None:
    if not math.isfinite(a) or a < 0:
        raise ValueError(f"offered load must be a finite number of Erlangs >= 0, got {a!r}")


def _check_positive(name: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")


def _check_target(target_s: float) -> None:
    if math.isnan(target_s) or target_s < 0:
        raise ValueError(f"target_s must be >= 0 seconds, got {target_s!r}")


def _check_stable(c: int, a: float) -> None:
    if a >= c:
        raise ValueError(
            f"Erlang C is unstable for offered load a={a:g} Erlangs >= c={c} agents: without abandonment the "
            "queue grows without bound and no stationary value exists (add agents, or use erlang_a)"
        )


def offered_load(calls: float, period_s: float, aht_s: float) -> float:
    """A = λ·AHT in Erlangs, λ = calls / period_s: the agents the calls would keep busy if nobody waited.

    Example (pyworkforce's test case): 100 calls per 1800 s at AHT 180 s is 10 Erlangs.
    """
    if not math.isfinite(calls) or calls < 0:
        raise ValueError(f"calls must be finite and >= 0, got {calls!r}")
    _check_positive("period_s", period_s)
    _check_positive("aht_s", aht_s)
    return calls / period_s * aht_s


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of the M/M/c/c loss system, by B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)).

    The recursion never forms a^c/c!, so it neither overflows nor cancels for thousands of agents; every
    step is a ratio of positive numbers (Jagerman 1974; Gans, Koole & Mandelbaum 2003, M&SOM 5(2) §4.1).
    """
    _check_agents(c, 0)
    _check_load(a)
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c_wait_probability(c: int, a: float) -> float:
    """P(wait) of M/M/c (Erlang C): by PASTA, the share of arrivals that find all c agents busy.

    C = c·B / (c − a(1 − B)) with B = erlang_b(c, a); algebraically equal to the textbook
    (a^c/c!)·c/(c−a) / (Σ_{k<c} a^k/k! + (a^c/c!)·c/(c−a)), without its overflow. Needs a < c.
    """
    b = erlang_b(c, a)
    _check_stable(c, a)
    return c * b / (c - a * (1.0 - b))


def erlang_c_service_level(c: int, a: float, aht_s: float, target_s: float) -> float:
    """P(W ≤ target) = 1 − C·exp(−(c − a)·target/AHT) for M/M/c, FCFS.

    Given that it waits, an arrival's wait is Exp(cμ − λ) = Exp((c − a)/AHT): the queue in front of it
    is geometric and drains at rate cμ (Gans, Koole & Mandelbaum 2003, eq. for the Erlang C TSF).
    """
    _check_positive("aht_s", aht_s)
    _check_target(target_s)
    wait = erlang_c_wait_probability(c, a)
    return 1.0 - wait * math.exp(-(c - a) * target_s / aht_s)


def erlang_c_asa(c: int, a: float, aht_s: float) -> float:
    """E[W] = C·AHT/(c − a), seconds, over all calls (in M/M/c every call is answered).

    The mean of the conditional Exp((c − a)/AHT) wait, weighted by the probability C of waiting at all.
    """
    _check_positive("aht_s", aht_s)
    wait = erlang_c_wait_probability(c, a)
    return wait * aht_s / (c - a)


def occupancy(c: int, a: float) -> float:
    """a/c: with no abandonment the carried load equals the offered load, shared by c agents.

    Only meaningful where Erlang C is (a < c); beyond that agents are busy 100 % and the queue explodes.
    """
    _check_agents(c, 1)
    _check_load(a)
    _check_stable(c, a)
    return a / c


@dataclass(frozen=True)
class ErlangA:
    """Stationary measures of M/M/c+M (Palm / Erlang A): Poisson arrivals, Exp service, Exp patience.

    Birth-death chain on n = calls in system: birth λ, death min(n, c)·μ + max(n − c, 0)·θ, so
    π_n ∝ a^n/n! for n ≤ c and π_{c+k} = π_c·Π_{i=1..k} λ/(cμ + iθ) (Garnett, Mandelbaum & Reiman 2002,
    M&SOM 4(3)). Abandonment keeps it stable for any a when θ > 0. Rates are per second.

    `state_probabilities[n]` is π_n for n = 0 .. c + K, where the dropped tail beyond K is < 1e-12.
    By PASTA it is also what an arrival sees, so `state_probabilities[c + k]` is P(arrival has k ahead).
    """

    arrival_rate: float
    service_rate: float
    abandon_rate: float
    agents: int
    state_probabilities: tuple[float, ...]
    wait_probability: float
    abandon_probability: float
    mean_queue_length: float
    asa_all: float
    asa_answered: float
    occupancy: float

    def service_level(self, target_s: float, abandons: AbandonCounting = "against") -> float:
        """Share of all arrivals meeting the target, with abandons counted as the contact center chooses.

        "against": P(answered and W ≤ T) — every abandon, short or long, counts as a miss.
        "in_favour": P(answered and W ≤ T) + P(abandoned and W ≤ T) = P(W ≤ T), W = time in queue.
        A tagged arrival with k ahead moves through phases j = k..0; in phase j it advances at cμ + jθ
        (a service completion or an abandon ahead of it) and abandons itself at θ, so it stays
        Exp(cμ + (j+1)θ) in each phase. Its absorption by time T is computed by uniformization, which
        adds only positive terms and so stays accurate where the closed hypoexponential form cancels.
        """
        _check_target(target_s)
        if abandons not in ("against", "in_favour"):
            raise ValueError(f"abandons must be 'against' or 'in_favour', got {abandons!r}")
        immediate = 1.0 - self.wait_probability
        if target_s == 0:
            return immediate
        if math.isinf(target_s):
            return 1.0 - self.abandon_probability if abandons == "against" else 1.0
        queue = self.state_probabilities[self.agents :]
        answered, abandoned = _absorbed_within(
            queue, self.agents * self.service_rate, self.abandon_rate, target_s
        )
        total = immediate + answered + (abandoned if abandons == "in_favour" else 0.0)
        return min(total, 1.0)


def _absorbed_within(queue: tuple[float, ...], cmu: float, theta: float, t: float) -> tuple[float, float]:
    """(P(answered by t), P(abandoned by t)) of the tagged customer, weighted by `queue` over k ahead.

    Uniformization: with Λ ≥ every exit rate, p(t) = Σ_m Pois(m; Λt)·p₀·P^m, P = I + Q/Λ (Jensen 1953;
    Grassmann 1977). The series stops once the Poisson tail, or the mass still waiting, is < TRANSIENT_TOL.
    """
    if not queue:
        return 0.0, 0.0
    last = len(queue) - 1
    big = cmu + (last + 1) * theta
    x = big * t
    log_x = math.log(x)
    stay = [1.0 - (cmu + (j + 1) * theta) / big for j in range(last + 1)]
    advance = [(cmu + j * theta) / big for j in range(last + 1)]
    quit_ = theta / big
    p = list(queue)
    answered = abandoned = 0.0
    sum_answered = sum_abandoned = weight_seen = 0.0
    m = 0
    while True:
        w = math.exp(-x + m * log_x - math.lgamma(m + 1))
        sum_answered += w * answered
        sum_abandoned += w * abandoned
        weight_seen += w
        waiting = math.fsum(p)
        if m + 1 > x:
            r = x / (m + 1)
            if w * r / (1.0 - r) < TRANSIENT_TOL:
                break
        if waiting < TRANSIENT_TOL:
            # Absorbed mass can only grow by what still waits, so freezing it here errs by < TRANSIENT_TOL.
            rest = max(0.0, 1.0 - weight_seen)
            sum_answered += rest * answered
            sum_abandoned += rest * abandoned
            break
        answered += p[0] * advance[0]
        abandoned += waiting * quit_
        p = [p[j] * stay[j] + (p[j + 1] * advance[j + 1] if j < last else 0.0) for j in range(last + 1)]
        m += 1
    return sum_answered, sum_abandoned


def erlang_a(arrival_rate: float, aht_s: float, agents: int, mean_patience_s: float) -> ErlangA:
    """Erlang A (M/M/c+M) for λ = arrival_rate per second, μ = 1/AHT, θ = 1/mean_patience, c agents.

    P(wait) = Σ_{n≥c} π_n (PASTA); P(abandon) = θ·E[Lq]/λ (abandon flow equals θ per waiting call);
    ASA over all arrivals = E[Lq]/λ (Little). For answered calls: with k ahead the wait in phase j is
    Exp(cμ + (j+1)θ) whatever ends it, so P(answered | k) = Π_j (cμ + jθ)/(cμ + (j+1)θ) = cμ/(cμ + (k+1)θ)
    and E[W·1{answered} | k] = P(answered | k)·Σ_{j=0..k} 1/(cμ + (j+1)θ).
    mean_patience_s = inf gives θ = 0, i.e. Erlang C, and then needs a < c.
    """
    if not math.isfinite(arrival_rate) or arrival_rate < 0:
        raise ValueError(f"arrival_rate must be finite and >= 0 per second, got {arrival_rate!r}")
    _check_positive("aht_s", aht_s)
    _check_agents(agents, 1)
    if math.isnan(mean_patience_s) or mean_patience_s <= 0:
        raise ValueError(f"mean_patience_s must be > 0 (inf for no abandonment), got {mean_patience_s!r}")
    lam = arrival_rate
    mu = 1.0 / aht_s
    theta = 0.0 if math.isinf(mean_patience_s) else 1.0 / mean_patience_s
    c = agents
    if lam == 0:
        return ErlangA(lam, mu, theta, c, (1.0,) + (0.0,) * c, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    a = lam * aht_s
    if theta == 0:
        _check_stable(c, a)
        # Geometric queue with ratio a/c: fail now rather than after a million states near a = c.
        if math.log(STATIONARY_TAIL) / math.log(a / c) > MAX_QUEUE_STATES:
            raise ValueError(
                f"Erlang C with a={a:g} so close to c={c} needs more than {MAX_QUEUE_STATES} queue states"
            )

    # Log weights so that a^n/n! and long products neither overflow nor underflow before normalising.
    log_a = math.log(a)
    log_w = [n * log_a - math.lgamma(n + 1) for n in range(c + 1)]
    peak = max(log_w)
    scaled_sum = math.fsum(math.exp(v - peak) for v in log_w)
    cmu = c * mu
    log_lam = math.log(lam)
    k = 0
    while True:
        ratio = lam / (cmu + (k + 1) * theta)
        if ratio < 1.0:
            # Ratios only fall with k, so the tail after this term is below term·r/(1 − r).
            log_tail = log_w[-1] + math.log(ratio / (1.0 - ratio))
            if log_tail - (peak + math.log(scaled_sum)) < math.log(STATIONARY_TAIL):
                break
        if k >= MAX_QUEUE_STATES:
            raise ValueError(
                f"Erlang A needs more than {MAX_QUEUE_STATES} queue states for a={a:g}, c={c}, "
                f"mean patience {mean_patience_s:g} s: patience is too long for this overload"
            )
        k += 1
        v = log_w[-1] + log_lam - math.log(cmu + k * theta)
        log_w.append(v)
        if v > peak:
            scaled_sum = scaled_sum * math.exp(peak - v) + 1.0
            peak = v
        else:
            scaled_sum += math.exp(v - peak)

    raw = [math.exp(v - peak) for v in log_w]
    z = math.fsum(raw)
    pi = tuple(r / z for r in raw)
    queue = pi[c:]
    wait_probability = math.fsum(queue)
    mean_queue_length = math.fsum(j * q for j, q in enumerate(queue))
    abandon_probability = theta * mean_queue_length / lam
    answered_probability = 1.0 - abandon_probability
    harmonic = 0.0
    answered_wait_terms = []
    for j, q in enumerate(queue):
        harmonic += 1.0 / (cmu + (j + 1) * theta)
        answered_wait_terms.append(q * cmu / (cmu + (j + 1) * theta) * harmonic)
    asa_answered = math.fsum(answered_wait_terms) / answered_probability
    return ErlangA(
        arrival_rate=lam,
        service_rate=mu,
        abandon_rate=theta,
        agents=c,
        state_probabilities=pi,
        wait_probability=wait_probability,
        abandon_probability=abandon_probability,
        mean_queue_length=mean_queue_length,
        asa_all=mean_queue_length / lam,
        asa_answered=asa_answered,
        occupancy=a * answered_probability / c,
    )


def agents_for_target(
    arrival_rate: float,
    aht_s: float,
    mean_patience_s: float,
    threshold_s: float,
    service_level: float,
    max_abandon: float = 1.0,
) -> int:
    """The fewest agents on queue whose Erlang A meets both goals: P(answered within threshold_s) ≥
    service_level (abandons against) and P(abandon) ≤ max_abandon; 0 when no call arrives.

    Both measures improve with every agent added, so the first c that meets them is the optimum. The search
    starts at a bound no answer can beat: agents are busy at most all the time, so c ≥ carried load =
    a·(1 − P(abandon)) ≥ a·(1 − max_abandon).
    """
    if not 0 < service_level < 1:
        raise ValueError(f"service_level must be in (0, 1), got {service_level!r}")
    if not 0 <= max_abandon <= 1:
        raise ValueError(f"max_abandon must be in [0, 1], got {max_abandon!r}")
    if arrival_rate == 0:
        return 0
    load = arrival_rate * aht_s
    agents = max(1, math.floor(load * (1.0 - max_abandon)))
    if math.isinf(mean_patience_s):
        agents = max(agents, math.floor(load) + 1)
    while True:
        queue = erlang_a(arrival_rate, aht_s, agents, mean_patience_s)
        if queue.abandon_probability <= max_abandon and queue.service_level(threshold_s) >= service_level:
            return agents
        agents += 1
