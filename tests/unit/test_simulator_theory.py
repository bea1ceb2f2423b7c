"""The simulator against queueing theory: one pool, no vendor, stationary Poisson arrivals, exponential service.

Erlang C (no abandonment) and Erlang A (exponential patience) from `streams.engine.queueing`, which shares no
code with the simulator. Replications with independent seeds run on both cores and are pooled.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from datetime import time

import pytest

from producers.simulator.core import Simulation
from producers.simulator.emit import TYPE_NAMES
from producers.simulator.scenario import Scenario
from producers.simulator.scenario import scenario_from_dict
from producers.simulator.truth import TruthRecorder
from streams.engine.queueing import erlang_a
from streams.engine.queueing import erlang_c_service_level
from streams.engine.queueing import erlang_c_wait_probability

CALLS_PER_HOUR = 200.0  # the textbook case: 100 calls per 30 minutes
AHT_S = 180.0
DAYS = 15
REPLICATIONS = 12  # 12 x 15 days x 4,800 calls = 864,000 calls per model


class _Discard:
    """Theory checks read the truth; the events are dropped at every drain."""

    def __init__(self) -> None:
        self.by_code: list[list[tuple[int, tuple[object, ...]]]] = [[] for _ in TYPE_NAMES]
        self.codes: list[int] = []

    def drain(self) -> None:
        self.codes.clear()
        for bucket in self.by_code:
            bucket.clear()


def _scenario(agents: int, patience: str, seed: int) -> Scenario:
    always_on = {"start": time(0, 0), "hours": 24, "breaks": False}
    no_deviation = {
        "late_login_prob": 0,
        "long_break_prob": 0,
        "early_logout_prob": 0,
        "unscheduled_not_ready_per_hour": 0,
    }
    return scenario_from_dict(
        {
            "name": "theory",
            "seed": seed,
            "days": DAYS,
            "intraday_profile": [1.0] * 24,
            "call_types": [
                {
                    "name": "all",
                    "daily_volume": CALLS_PER_HOUR * 24,
                    "transfer_prob": 0,
                    "handle": {
                        "distribution": "exponential",
                        "talk_mean_s": AHT_S,
                        "hold_prob": 0,
                        "acw_mean_s": 0,
                    },
                }
            ],
            "patience": {"distribution": patience, "mean_s": 120},
            "in_house": {
                "id": "in-house",
                "agents": agents,
                "teams": 1,
                "shifts": [always_on],
                "behaviour": no_deviation,
                "repeat_prob": 0,
            },
            "vendors": [],
            "qa_sample_rate": 0,
            "csat_response_rate": 0,
        }
    )


def _replicate(args: tuple[int, str, int]) -> tuple[int, int, int, int]:
    """(calls, waited, answered within 20 s, abandoned) of one replication."""
    agents, patience, seed = args
    truth = TruthRecorder()
    Simulation(_scenario(agents, patience, seed), _Discard(), truth, b"theory").run()
    legs = truth.legs
    waited = sum(1 for leg in legs if leg.outcome == "abandoned" or (leg.wait_ms or 0) > 0)
    within = sum(1 for leg in legs if leg.outcome == "answered" and (leg.wait_ms or 0) <= 20_000)
    abandoned = sum(1 for leg in legs if leg.outcome == "abandoned")
    return len(legs), waited, within, abandoned


def _pooled(agents: int, patience: str) -> tuple[float, float, float, int]:
    jobs = [(agents, patience, 1000 + r) for r in range(REPLICATIONS)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_replicate, jobs))
    calls = sum(r[0] for r in results)
    return (
        sum(r[1] for r in results) / calls,
        sum(r[2] for r in results) / calls,
        sum(r[3] for r in results) / calls,
        calls,
    )


def test_single_pool_matches_erlang_c_textbook_case() -> None:
    # A = 200/h x 180 s = 10 Erlangs on 14 agents: P(wait) 0.174, SL(20 s) 0.888 (Erlang C).
    p_wait, service_level, abandoned, calls = _pooled(14, "none")
    assert calls > 800_000
    assert abandoned == 0
    assert erlang_c_service_level(14, 10.0, AHT_S, 20) == pytest.approx(0.888, abs=0.001)
    assert p_wait == pytest.approx(erlang_c_wait_probability(14, 10.0), rel=0.02)
    assert service_level == pytest.approx(erlang_c_service_level(14, 10.0, AHT_S, 20), rel=0.02)


def test_single_pool_with_exponential_patience_matches_erlang_a() -> None:
    theory = erlang_a(CALLS_PER_HOUR / 3600, AHT_S, 10, 120.0)
    p_wait, service_level, abandoned, _ = _pooled(10, "exponential")
    assert p_wait == pytest.approx(theory.wait_probability, rel=0.02)
    assert abandoned == pytest.approx(theory.abandon_probability, rel=0.02)
    assert service_level == pytest.approx(theory.service_level(20, abandons="against"), rel=0.02)
