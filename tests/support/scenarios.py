"""Scenarios the tests share, so each test file states only what it needs of one.

`small`: a day of one call type at a small in-house center and (unless `vendor_agents=0`) one vendor: for
tests that need real traffic, not a particular one. `mixed`: two call types with transfers and a long sales
call, a slower vendor with a queue limit, and failing redirects: what the truth tests compare against.
"""

from __future__ import annotations

from typing import Any

from producers.simulator.scenario import Scenario
from producers.simulator.scenario import scenario_from_dict


def small(
    name: str, *, calls: int = 300, agents: int = 12, teams: int = 2, vendor_agents: int = 6, **extra: Any
) -> Scenario:
    vendors = [{"id": "vendor-a", "agents": vendor_agents, "teams": 1}] if vendor_agents else []
    return scenario_from_dict(
        {
            "name": name,
            "call_types": [{"name": "billing", "daily_volume": calls}],
            "in_house": {"id": "in-house", "agents": agents, "teams": teams},
            "vendors": vendors,
            **extra,
        }
    )


def mixed(
    name: str, *, billing: int, sales: int, agents: int, teams: int, vendor_agents: int, vendor_teams: int
) -> Scenario:
    return scenario_from_dict(
        {
            "name": name,
            "call_types": [
                {"name": "billing", "daily_volume": billing, "transfer_prob": 0.05},
                {"name": "sales", "daily_volume": sales, "handle": {"talk_mean_s": 280}},
            ],
            "in_house": {"id": "in-house", "agents": agents, "teams": teams},
            "vendors": [
                {
                    "id": "vendor-a",
                    "agents": vendor_agents,
                    "teams": vendor_teams,
                    "aht_multiplier": 1.1,
                    "queue_limit": 3,
                }
            ],
            "redirect_fail_prob": 0.03,
        }
    )
