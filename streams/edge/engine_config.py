"""Load the engine's settings (interval, lateness, thresholds, tenants and their setups) from a JSON or TOML file.

The edge's job: the engine itself never opens files.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from pydantic import ValidationError

from streams.engine.config import EngineConfig


def load_engine_config(path: str | None) -> EngineConfig:
    if path is None:
        return EngineConfig()
    file = Path(path)
    text = file.read_text(encoding="utf-8")
    data = tomllib.loads(text) if file.suffix == ".toml" else json.loads(text)
    try:
        return EngineConfig.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"{file}: invalid engine configuration: {exc}") from None
