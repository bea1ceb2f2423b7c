"""Scenarios the tests share, so each test file states only what it needs of one.

`small`: a day of one call type at a small in-house center and (unless `vendor_agents=0`) one vendor: for
tests that need real traffic, not a particular one. `mixed`: two call types with transfers and a long sales
call, a slower vendor with a queue limit, and failing redirects: what the truth tests compare against.
"""

from __future__ import annotations

from typing import Any

from producers.simulator.scenario import Scenario
from producers.simulator.scenario import scenario_from_dict

# The shifts of the tests' small centers: 8 hours from 07:00, 10:00 and 14:00. The default roster is fitted to
# the default demand; these centers are not, and a test that compares the engine with the truth once the stream
# has gone quiet needs every schedule to end before the stream's last agent events (a quiet partition's
# watermark moves on only by the quiet time, so scheduled time after it is not counted yet).
ROSTER = [
    {"start": "07:00:00", "hours": 8.0, "share": 0.4},
    {"start": "10:00:00", "hours": 8.0, "share": 0.35},
    {"start": "14:00:00", "hours": 8.0, "share": 0.25},
]


def small(
    name: str, *, calls: int = 300, agents: int = 12, teams: int = 2, vendor_agents: int = 6, **extra: Any
) -> Scenario:
    vendors = (
        [{"id": "vendor-a", "agents": vendor_agents, "teams": 1, "shifts": ROSTER}] if vendor_agents else []
    )
    return scenario_from_dict(
        {
            "name": name,
            "call_types": [{"name": "billing", "daily_volume": calls}],
            "in_house": {"id": "in-house", "agents": agents, "teams": teams, "shifts": ROSTER},
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
            "in_house": {"id": "in-house", "agents": agents, "teams": teams, "shifts": ROSTER},
            "vendors": [
                {
                    "id": "vendor-a",
                    "shifts": ROSTER,
                    "agents": vendor_agents,
                    "teams": vendor_teams,
                    "aht_multiplier": 1.1,
                    "queue_limit": 3,
                }
            ],
            "redirect_fail_prob": 0.03,
        }
    )
