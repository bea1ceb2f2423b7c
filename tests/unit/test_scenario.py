"""Scenario files: documented defaults load, and bad input is refused with the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from producers.simulator.scenario import Scenario
from producers.simulator.scenario import ScenarioError
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
    # A full engagement moves the in-house positions to the vendors: equal capacity across variants.
    assert nd_full.in_house.agents == 0
    assert sum(v.agents for v in nd_full.vendors) == base.in_house.agents + sum(
        v.agents for v in base.vendors
    )
    assert nd_full.name == "network-delivered-full"
