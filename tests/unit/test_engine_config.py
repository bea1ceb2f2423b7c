"""The engine configuration refuses what would silently mislead: a contract whose SLA threshold the engine does
not count would read as a service level of 0 % (or NULL) on every dashboard, with no error anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from streams.edge.engine_config import load_engine_config
from streams.engine.config import EngineConfig
from streams.engine.config import SourceTerms
from streams.engine.config import TenantConfig


def test_a_contract_threshold_the_engine_does_not_count_is_refused_naming_the_source() -> None:
    with pytest.raises(ValidationError) as refused:
        EngineConfig(tenants={"bank": TenantConfig(sources={"vendor-a": SourceTerms(sla_threshold_s=25)})})
    message = str(refused.value)
    assert "tenant 'bank', source 'vendor-a': sla_threshold_s 25" in message
    assert "the engine counts [10, 20, 30, 60] s" in message


def test_counting_the_threshold_makes_the_same_contract_valid() -> None:
    config = EngineConfig(
        service_thresholds_s=(10, 20, 25, 30, 60),
        tenants={"bank": TenantConfig(sources={"vendor-a": SourceTerms(sla_threshold_s=25)})},
    )
    assert config.tenant("bank").sources["vendor-a"].sla_threshold_s == 25


def test_the_default_tenant_is_checked_too() -> None:
    with pytest.raises(ValidationError, match="tenant '\\(default tenant\\)', source 'in-house'"):
        EngineConfig(default_tenant=TenantConfig(sources={"in-house": SourceTerms(sla_threshold_s=45)}))


def test_loading_such_a_file_fails_with_the_file_and_the_source(tmp_path: Path) -> None:
    path = tmp_path / "engine.json"
    path.write_text(json.dumps({"tenants": {"bank": {"sources": {"vendor-b": {"sla_threshold_s": 15}}}}}))
    with pytest.raises(
        ValueError, match=r"(?s)engine\.json: invalid engine configuration: .*'vendor-b': sla_threshold_s 15"
    ):
        load_engine_config(str(path))


def test_contracted_seats_are_none_unless_the_contract_names_them_and_at_least_one(tmp_path: Path) -> None:
    assert SourceTerms().contracted_seats is None  # no seats named: NULL in source_terms, no seats gap
    path = tmp_path / "engine.toml"
    path.write_text(
        '[tenants.bank]\nsetup = "network_delivered"\n[tenants.bank.sources.vendor-a]\ncontracted_seats = 12\n'
    )
    assert load_engine_config(str(path)).tenant("bank").sources["vendor-a"].contracted_seats == 12
    for seats in (0, -3, 2.5):
        with pytest.raises(ValidationError, match="contracted_seats"):
            SourceTerms(contracted_seats=seats)  # type: ignore[arg-type]
