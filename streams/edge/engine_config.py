"""Load the engine's settings (interval, lateness, thresholds, tenants and their setups) from an engine
configuration file (JSON or TOML) and the tenant files (`streams.tenant`) of the deployment.

The edge's job: the engine itself never opens files.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from streams.engine.config import EngineConfig
from streams.tenant import engine_config
from streams.tenant import load_tenant_file


def load_engine_config(path: str | None, tenant_files: Sequence[str] = ()) -> EngineConfig:
    """Defaults where neither is given; a tenant file's tenant and engine settings join the file's."""
    data: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        text = file.read_text(encoding="utf-8")
        data = tomllib.loads(text) if file.suffix == ".toml" else json.loads(text)
    tenants = [load_tenant_file(tenant_file) for tenant_file in tenant_files]
    try:
        return engine_config(data, tenants, origin=str(path) if path else "")
    except ValidationError as exc:
        raise ValueError(f"{path or 'tenant files'}: invalid engine configuration: {exc}") from None
