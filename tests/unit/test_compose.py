"""The docker-compose stack stays consistent with the code: real settings, real commands, pinned images."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.main import get_command

from acdscope.cli import app
from acdscope.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_images_are_pinned() -> None:
    for name, service in _compose()["services"].items():
        image = service.get("image", "")
        if "build" in service:
            continue
        assert ":" in image, f"{name}: image {image!r} has no tag"
        assert not image.endswith(":latest"), f"{name}: pin a version, not latest"


def test_every_acdscope_variable_is_a_setting() -> None:
    fields = {f"ACDSCOPE_{name.upper()}" for name in Settings.model_fields}
    for name, service in _compose()["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("ACDSCOPE_"):
                assert variable in fields, f"{name}: {variable} is not a Settings field"


def test_every_service_command_is_a_cli_command() -> None:
    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    for name, service in _compose()["services"].items():
        command = service.get("command")
        if command and command[0] == "acdscope":
            assert command[1] in commands, f"{name}: acdscope {command[1]} does not exist"


def test_workers_wait_for_migrations_and_topics() -> None:
    depends = _compose()["services"]["worker"]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["topics"]["condition"] == "service_completed_successfully"


def test_grafana_reads_the_database_the_workers_write() -> None:
    services = _compose()["services"]
    dsn = services["worker"]["environment"]["ACDSCOPE_CLICKHOUSE_DSN"]
    source = yaml.safe_load((ROOT / "infra/grafana/provisioning/datasources/clickhouse.yml").read_text())
    database = source["datasources"][0]["jsonData"]["defaultDatabase"]
    assert dsn.rsplit("/", 1)[1] == database == services["clickhouse"]["environment"]["CLICKHOUSE_DB"]


def _compose_cli() -> list[str] | None:
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_docker_compose_config_accepts_the_file() -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip(
            "no `docker compose` plugin or docker-compose on this machine; checked structurally above"
        )
    result = subprocess.run([*cli, "config", "--quiet"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_grafana_dashboard_is_generated_from_the_same_sql() -> None:
    import json

    from acdscope.grafana import OUT, build_dashboard

    assert json.loads(OUT.read_text()) == build_dashboard(), "run: python -m acdscope.grafana"
    panels = build_dashboard()["panels"]
    assert {panel["title"] for panel in panels} >= {"vendor scorecard", "setup comparison", "rta board"}
    for panel in panels:
        assert "{" not in panel["targets"][0]["rawSql"].replace("${tenant}", "").replace("${tz}", ""), panel[
            "title"
        ]


def test_the_compose_engine_config_is_valid() -> None:
    from streams.edge.engine_config import load_engine_config

    config = load_engine_config(str(ROOT / "infra" / "engine.toml"))
    assert config.tenant("default").sources["vendor-a"].contracted_share == 0.3
    environment = _compose()["services"]["worker"]["environment"]
    assert environment["ACDSCOPE_ENGINE_CONFIG"] == "/app/infra/engine.toml"
