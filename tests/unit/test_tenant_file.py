"""One tenant file is read by the simulator, the engine and `acdscope terms`: what it says once reaches all
three, and whatever it does not say consistently is refused naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from producers.simulator.scenario import Scenario
from producers.simulator.scenario import ScenarioError
from producers.simulator.scenario import load_scenario
from producers.simulator.scenario import scenario_from_tenant
from streams.edge.engine_config import load_engine_config
from streams.tenant import TenantFile
from streams.tenant import TenantFileError
from streams.tenant import load_tenant_file

ROOT = Path(__file__).resolve().parents[2]
BANK = ROOT / "tenants" / "bank.toml"

MINIMAL = """
name = "acme"
setup = "enterprise_routed"
[engagement]
model = "targeted"
targeted = { sales = "vendor-x" }
[sources.in-house]
rate = 30.0
[sources.vendor-x]
cost_model = "per_contact"
rate = 3.5
sla_threshold_s = 30
[call_types]
billing = "Billing"
sales = "Sales (to vendor-x)"
[simulation]
call_types = [{ name = "billing", daily_volume = 500 }, { name = "sales", daily_volume = 200 }]
[simulation.sources.vendor-x]
agents = 7
"""


def write(tmp_path: Path, text: str, name: str = "tenant.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_live_tenant_file_simulates_the_calibrated_bank_and_prices_what_the_demo_prices() -> None:
    """tenants/bank.toml spells out the calibrated default scenario (its documented occupancy and service
    levels hold for it) and the demo's terms; the engine gets its setup and contracts."""
    tenant = load_tenant_file(BANK)
    scenario = scenario_from_tenant(tenant)
    expected = Scenario().model_dump() | {"name": "bank", "setup": "virtualized"}
    assert scenario.model_dump() == expected
    config = load_engine_config(None, [str(BANK)])
    terms = config.tenant("bank")
    assert (terms.setup, terms.engagement, terms.in_house) == ("virtualized", "shared (overflow)", "in-house")
    # 45,600 x 1.25 x 1.28 / (2,080 - 160 hours off) = 38.00 per rostered hour.
    assert terms.sources["in-house"].cost_model == "loaded_hourly"
    assert terms.sources["in-house"].rate == pytest.approx(38.0)
    vendor = terms.sources["vendor-a"]
    assert (vendor.cost_model, vendor.rate, vendor.sla_credit, vendor.contracted_seats) == (
        "per_contact",
        4.2,
        0.05,
        3,
    )
    assert config.interval_minutes == 15
    assert load_scenario(BANK) == scenario  # a tenant file is a scenario file too


def test_what_the_tenant_says_reaches_the_simulation(tmp_path: Path) -> None:
    tenant = load_tenant_file(write(tmp_path, MINIMAL))
    scenario = scenario_from_tenant(tenant)
    assert scenario.name == "acme"
    assert scenario.setup == "enterprise_routed"
    assert scenario.engagement.targeted == {"sales": "vendor-x"}
    assert [source.id for source in (scenario.in_house, *scenario.vendors)] == ["in-house", "vendor-x"]
    assert scenario.vendors[0].agents == 7
    # The vendors report calls answered within the in-house contract's threshold (20 s by default).
    assert scenario.service_threshold_s == 20
    config = tenant.tenant_config()
    assert config.engagement == "targeted"
    assert config.call_types["sales"] == "Sales (to vendor-x)"


def test_a_scenario_may_reference_a_tenant_file_and_add_to_its_simulation(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL)
    scenario = load_scenario(write(tmp_path, 'tenant = "tenant.toml"\ndays = 3\nseed = 5\n', "run.toml"))
    assert (scenario.name, scenario.days, scenario.seed) == ("acme", 3, 5)
    assert scenario.vendors[0].agents == 7
    with pytest.raises(ScenarioError, match=r"run2\.toml: simulation\.setup: the tenant file says it once"):
        load_scenario(write(tmp_path, 'tenant = "tenant.toml"\nsetup = "virtualized"\n', "run2.toml"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('vendor-x"', 'vendor-y"'),
            r"engagement\.targeted\.sales: 'vendor-y' is not a vendor under sources",
        ),
        (("[sources.in-house]", "[sources.in-house-2]"), r"sources: no contract for the in-house center"),
        (("sla_threshold_s = 30", "sla_threshold_s = 25"), r"sla_threshold_s 25 is not a counted"),
        (("[simulation]", "[engine]\ninterval_width = 15\n[simulation]"), r"engine: unknown setting\(s\)"),
        (("rate = 3.5", "rate = -1"), r"sources\.vendor-x\.rate"),
    ],
)
def test_an_inconsistent_tenant_file_is_refused_naming_the_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in MINIMAL
    with pytest.raises(TenantFileError, match=rf"tenant\.toml: invalid tenant file: .*{message}"):
        load_tenant_file(write(tmp_path, MINIMAL.replace(old, new, 1)))


@pytest.mark.parametrize(
    ("addition", "message"),
    [
        ("[simulation.sources.vendor-z]\nagents = 1\n", r"simulation\.sources: \['vendor-z'\] not under"),
        (
            '[simulation.engagement]\nmodel = "full"\n',
            r"simulation\.engagement: the tenant file says it once",
        ),
        ("[[simulation.vendors]]\nid = 'vendor-x'\n", r"simulation\.vendors: the tenant file says it once"),
    ],
)
def test_a_simulation_that_contradicts_its_tenant_is_refused(
    tmp_path: Path, addition: str, message: str
) -> None:
    tenant = load_tenant_file(write(tmp_path, MINIMAL + addition))
    with pytest.raises(ScenarioError, match=message):
        scenario_from_tenant(tenant)


def test_simulated_call_types_must_be_the_tenants(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        '{ name = "sales", daily_volume = 200 }', '{ name = "retention", daily_volume = 200 }'
    )
    with pytest.raises(ScenarioError, match=r"simulates \['billing', 'retention'\], the tenant's call_types"):
        scenario_from_tenant(
            load_tenant_file(write(tmp_path, text.replace("targeted = { sales", "targeted = { billing")))
        )


def test_engine_settings_of_two_tenant_files_must_agree_and_tenants_are_declared_once(tmp_path: Path) -> None:
    first = write(tmp_path, MINIMAL + "[engine]\ninterval_minutes = 15\n", "a.toml")
    second = write(
        tmp_path,
        MINIMAL.replace('name = "acme"', 'name = "beta"') + "[engine]\ninterval_minutes = 30\n",
        "b.toml",
    )
    with pytest.raises(
        TenantFileError, match=r"engine\.interval_minutes: tenant file 'beta' sets 30, tenant file 'acme' 15"
    ):
        load_engine_config(None, [str(first), str(second)])
    with pytest.raises(
        TenantFileError, match=r"tenant 'acme' is declared by tenant file 'acme' and tenant file"
    ):
        load_engine_config(None, [str(first), str(first)])
    engine = write(tmp_path, '[tenants.acme]\nsetup = "virtualized"\n', "engine.toml")
    with pytest.raises(
        TenantFileError, match=r"tenant 'acme' is declared by .*engine\.toml and tenant file 'acme'"
    ):
        load_engine_config(str(engine), [str(first)])
    both = load_engine_config(
        None, [str(first), str(write(tmp_path, MINIMAL.replace('name = "acme"', 'name = "beta"'), "c.toml"))]
    )
    assert set(both.tenants) == {"acme", "beta"}
    assert both.interval_minutes == 15


def test_a_missing_or_malformed_file_says_which(tmp_path: Path) -> None:
    with pytest.raises(TenantFileError, match=r"nope\.toml: cannot read the tenant file"):
        load_tenant_file(tmp_path / "nope.toml")
    with pytest.raises(TenantFileError, match=r"bad\.toml: not valid TOML"):
        load_tenant_file(write(tmp_path, "name = ", "bad.toml"))
    assert TenantFile.model_validate({"name": "x", "sources": {"in-house": {}}}).vendors == []
