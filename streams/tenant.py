"""The tenant file: one enterprise described once, read by everything that needs to know it.

A contact center's deployment is told the same facts in several places: the engine must know the delivery
setup (it decides what is observable) and each source's contract (SLA threshold and target, cost model,
credits, seats), `acdscope terms` loads those contracts for the dashboards, and the simulator must simulate
that same enterprise (its sources, setup and engagement) for a live run to be read by the same terms. When
they were declared separately they drifted: the streaming deployment's engine configuration named a tenant
the simulator never produced, so every dashboard was empty. A tenant file holds them once:

- `name`, `setup`, `engagement` (targeted call types, shared overflow after a wait or a percentage split,
  full), `in_house` (which source is the enterprise's own center);
- `[sources.<id>]`: every source, in-house first, with its contract (`SourceTerms`: cost model and rate,
  SLA threshold, target and credit, chronic-breach thresholds, contracted share and seats, forecast
  tolerance);
- `[call_types]`: call type -> its label on the dashboards;
- `[alerts.*]`: the alert rules the engine evaluates (`streams.engine.config.AlertRules`);
- `[engine]`: the deployment-wide engine settings it needs (interval width, lateness, counted service-level
  thresholds, adherence grace and severity; `streams.engine.config.EngineConfig`);
- `[simulation]`: what only the simulator needs to play this tenant (demand, patience, staffing per source
  under `[simulation.sources.<id>]`); the simulator takes the rest from the tenant itself.

Pure models and a reader; part of the contract beside `streams.events`, so producers may import it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated
from typing import Any
from typing import Literal

import yaml
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import model_validator

from streams.engine.config import AlertRules
from streams.engine.config import EngineConfig
from streams.engine.config import Setup
from streams.engine.config import SourceTerms
from streams.engine.config import TenantConfig

EngagementModel = Literal["targeted", "shared", "full"]
SourceId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]
# Engine settings a tenant file may carry: every EngineConfig field but the tenants themselves.
ENGINE_KEYS = frozenset(EngineConfig.model_fields) - {"tenants", "default_tenant"}


class TenantFileError(ValueError):
    """A tenant file that cannot be used; the message names the file and the field."""


class Engagement(BaseModel):
    """Which calls a vendor gets. `targeted`: chosen call types; `shared`: overflow after `overflow_after_s` in
    the in-house queue, or a percentage `split`; `full`: every call goes to the vendors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: EngagementModel = "shared"
    shared_mode: Literal["overflow", "split"] = "overflow"
    overflow_after_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    # Percent of calls per source id for `shared`+`split` (include the in-house id) and for `full` (vendors).
    split: dict[str, Annotated[float, Field(ge=0, le=100)]] = Field(default_factory=dict)
    # call type -> vendor id for `targeted`.
    targeted: dict[str, str] = Field(default_factory=dict)

    @property
    def label(self) -> str:
        """How the comparison dashboards name it: `targeted`, `shared (overflow)`, `shared (split)`, `full`."""
        return f"shared ({self.shared_mode})" if self.model == "shared" else self.model


class TenantFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: SourceId
    setup: Setup = "virtualized"
    engagement: Engagement = Engagement()
    in_house: SourceId = "in-house"
    sources: dict[SourceId, SourceTerms]
    call_types: dict[str, str] = Field(default_factory=dict)
    alerts: AlertRules = AlertRules()
    engine: dict[str, Any] = Field(default_factory=dict)
    simulation: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> TenantFile:
        """Every name the file uses is one it declares: a vendor in the engagement that has no contract would
        be simulated and counted but never priced or held to an SLA."""
        if self.in_house not in self.sources:
            raise ValueError(f"sources: no contract for the in-house center {self.in_house!r}")
        vendors = set(self.vendors)
        for call_type, vendor in self.engagement.targeted.items():
            if vendor not in vendors:
                raise ValueError(f"engagement.targeted.{call_type}: {vendor!r} is not a vendor under sources")
            if self.call_types and call_type not in self.call_types:
                raise ValueError(f"engagement.targeted: {call_type!r} is not under call_types")
        for source in self.engagement.split:
            if source not in self.sources:
                raise ValueError(f"engagement.split: {source!r} is not under sources")
        unknown = sorted(set(self.engine) - ENGINE_KEYS)
        if unknown:
            raise ValueError(f"engine: unknown setting(s) {unknown}; the settings are {sorted(ENGINE_KEYS)}")
        # The thresholds its contracts name must be ones the engine counts (EngineConfig says which).
        EngineConfig.model_validate({**self.engine, "tenants": {self.name: self.tenant_config()}})
        return self

    @property
    def vendors(self) -> list[str]:
        """The vendors, in the file's order."""
        return [source for source in self.sources if source != self.in_house]

    def tenant_config(self) -> TenantConfig:
        """What the engine and `acdscope terms` are told about this tenant."""
        return TenantConfig(
            setup=self.setup,
            engagement=self.engagement.label,
            in_house=self.in_house,
            sources=self.sources,
            call_types=self.call_types,
            alerts=self.alerts,
        )


def _format_errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '<file>'}: {error['msg']}"
        for error in exc.errors(include_url=False)
    )


def read_table(path: Path, what: str) -> dict[str, Any]:
    """A `.toml`, `.yaml` or `.yml` file as a table; errors name the file."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            raise TenantFileError(f"{path}: {what} files are .toml, .yaml or .yml")
    except OSError as exc:
        raise TenantFileError(f"{path}: cannot read the {what} file: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise TenantFileError(f"{path}: not valid {path.suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise TenantFileError(f"{path}: a {what} file is a table of settings")
    return data


def load_tenant_file(path: Path | str) -> TenantFile:
    file = Path(path)
    try:
        return TenantFile.model_validate(read_table(file, "tenant"))
    except ValidationError as exc:
        raise TenantFileError(f"{file}: invalid tenant file: {_format_errors(exc)}") from None


def engine_config(base: dict[str, Any], tenants: Sequence[TenantFile], origin: str = "") -> EngineConfig:
    """The engine's configuration: `base` (an engine configuration file's table, or empty) with each tenant
    file's tenant and engine settings added. Two files that set one engine setting differently, or declare
    one tenant twice, are refused naming both: the engine has one interval width and one set of thresholds."""
    merged = dict(base)
    declared = {name: origin or "the engine configuration" for name in merged.get("tenants", {})}
    set_by = {key: origin or "the engine configuration" for key in merged if key in ENGINE_KEYS}
    tenant_configs: dict[str, Any] = dict(merged.pop("tenants", {}))
    for tenant in tenants:
        where = f"tenant file {tenant.name!r}"
        if tenant.name in declared:
            raise TenantFileError(
                f"tenant {tenant.name!r} is declared by {declared[tenant.name]} and {where}"
            )
        declared[tenant.name] = where
        tenant_configs[tenant.name] = tenant.tenant_config()
        for key, value in tenant.engine.items():
            if key in set_by and merged[key] != value:
                raise TenantFileError(
                    f"engine.{key}: {where} sets {value!r}, {set_by[key]} {merged[key]!r}; the engine has one"
                )
            merged[key], set_by[key] = value, where
    return EngineConfig.model_validate({**merged, "tenants": tenant_configs})
