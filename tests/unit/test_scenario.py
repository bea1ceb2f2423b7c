"""Scenario files: documented defaults load, and bad input is refused with the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from producers.simulator.scenario import Scenario
from producers.simulator.scenario import ScenarioError
from producers.simulator.scenario import Source
from producers.simulator.scenario import contracted_seats
from producers.simulator.scenario import load_scenario
from producers.simulator.scenario import scenario_from_dict
from producers.simulator.scenario import variant

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_scenario_file_loads() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "bank.toml")
    assert scenario.source_ids == ("in-house", "vendor-a", "vendor-b")
    assert scenario.vendor_shares() == {"vendor-a": 0.6, "vendor-b": 0.4}


def test_yaml_and_toml_give_the_same_scenario(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text('name = "x"\ndays = 2\n[engagement]\nmodel = "full"\n')
    (tmp_path / "s.yaml").write_text("name: x\ndays: 2\nengagement:\n  model: full\n")
    assert load_scenario(tmp_path / "s.toml") == load_scenario(tmp_path / "s.yaml")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"dayz": 3}, r"dayz: Extra inputs are not permitted"),
        ({"in_house": {"id": "in-house", "agentz": 3}}, r"in_house\.agentz"),
        ({"call_types": [{"name": "billing", "daily_volume": -5}]}, r"call_types\.0\.daily_volume"),
        ({"patience": {"mean_s": 0}}, r"patience\.mean_s"),
        (
            {
                "engagement": {
                    "model": "shared",
                    "shared_mode": "split",
                    "split": {"in-house": 50, "vendor-a": 40},
                }
            },
            r"shares sum to 90%, not 100%",
        ),
        (
            {"engagement": {"model": "targeted", "targeted": {"billing": "vendor-z"}}},
            r"unknown vendor 'vendor-z'",
        ),
        (
            {"engagement": {"model": "targeted", "targeted": {"claims": "vendor-a"}}},
            r"unknown call type 'claims'",
        ),
        ({"engagement": {"split": {"vendor-q": 100}, "model": "full"}}, r"unknown source 'vendor-q'"),
        ({"intraday_profile": [1.0] * 23}, r"24 non-negative weights"),
        ({"vendors": [{"id": "in-house"}]}, r"source ids must be unique"),
    ],
)
def test_bad_scenarios_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(data)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[engagement]\nmodel = 'shared'\nshared_mode = 'split'\n")
    with pytest.raises(ScenarioError, match=r"broken\.toml: .*shared split needs shares"):
        load_scenario(path)
    path.write_text("days = [")
    with pytest.raises(ScenarioError, match=r"not valid TOML"):
        load_scenario(path)


def test_variants_share_everything_but_setup_and_engagement() -> None:
    base = Scenario()
    nd_full = variant(base, "network_delivered", "full")
    v_targeted = variant(base, "virtualized", "targeted")
    assert nd_full.seed == v_targeted.seed == base.seed
    assert nd_full.call_types == v_targeted.call_types == base.call_types
    assert v_targeted.engagement.targeted == {"sales": "vendor-a"}
    assert nd_full.name == "network-delivered-full"
    # Shared is the base's own staffing.
    assert variant(base, "virtualized", "shared").vendors == base.vendors


def test_variants_move_the_staffing_with_the_work() -> None:
    base = Scenario()
    vendor = base.vendors[0]
    # Full: every in-house position moves to the vendor, which staffs it for its 1.12 handle time.
    full = variant(base, "virtualized", "full")
    assert full.in_house.agents == 0
    assert full.vendors[0].agents == vendor.agents + round(base.in_house.agents * 1.12) == 93
    # The moved positions keep their shifts: the vendor's roster is its own team's plus the in-house one.
    weights = {(p.start, p.hours): p.share * full.vendors[0].agents for p in full.vendors[0].shifts}
    for pattern in base.in_house.shifts:
        own = sum(
            p.share * vendor.agents
            for p in vendor.shifts
            if (p.start, p.hours) == (pattern.start, pattern.hours)
        )
        assert weights[(pattern.start, pattern.hours)] == pytest.approx(own + pattern.share * 88)
    # Targeted: the positions of the sales share of the in-house workload (calls x handle time) move.
    sales = (
        800
        * (280 + 0.05 * 45 + 30)
        / sum(ct.daily_volume * ct.handle.mean_handle_s for ct in base.call_types)
    )
    moved = round(base.in_house.agents * sales)
    targeted = variant(base, "virtualized", "targeted")
    assert moved == 16
    assert targeted.in_house.agents == base.in_house.agents - moved
    assert targeted.vendors[0].agents == vendor.agents + round(moved * 1.12)
    # Two vendors in full share the positions by their split.
    bank = load_scenario(ROOT / "scenarios" / "bank.toml")
    shares = {v.id: v.agents for v in variant(bank, "virtualized", "full").vendors}
    assert shares == {
        "vendor-a": 3 + round(round(79 * 0.6) * 1.12),
        "vendor-b": 2 + round(round(79 * 0.4) * 0.95),
    }
    # A base that is already targeted keeps its staffing.
    again = variant(targeted, "enterprise_routed", "targeted")
    assert (again.in_house.agents, again.vendors[0].agents) == (
        targeted.in_house.agents,
        targeted.vendors[0].agents,
    )


def test_an_overflow_contract_becomes_an_ordinary_queue_when_the_vendor_is_sent_work_by_contract() -> None:
    from producers.simulator.scenario import Scenario
    from producers.simulator.scenario import variant

    assert Scenario().vendors[0].queue_limit == 0  # the default overflow vendor takes only what it can answer
    assert variant(Scenario(), "virtualized", "shared").vendors[0].queue_limit == 0
    for engagement in ("targeted", "full"):
        assert variant(Scenario(), "enterprise_routed", engagement).vendors[0].queue_limit is None


def test_a_vendors_contracted_seats_are_its_rosters_agents_on_shift_on_average_while_open() -> None:
    # The overflow team of 5: 2 on 07:00-15:00, 1 on 11:00-19:00, 2 on 14:00-22:00: 40 agent-hours over the
    # 15 hours 07:00-22:00, 2.67 on average, so 3 seats.
    assert contracted_seats(Scenario().vendors[0]) == 3
    # 10 agents, 6 on 22:00-06:00 (past midnight) and 4 on 06:00-14:00: 80 agent-hours over the 16 hours it
    # is open (14:00-22:00 is closed, not a seat short): 5 seats.
    night = Source.model_validate(
        {"id": "night", "agents": 10, "shifts": [{"start": "22:00:00", "hours": 8, "share": 0.6},
                                                  {"start": "06:00:00", "hours": 8, "share": 0.4}]}
    )  # fmt: skip
    assert contracted_seats(night) == 5
    assert contracted_seats(Source(id="none", agents=0)) is None
