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
