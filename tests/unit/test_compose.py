"""The docker-compose stack stays consistent with the code: real settings, real commands, pinned images."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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

    from acdscope.grafana import OUT
    from acdscope.grafana import build_dashboard

    assert json.loads(OUT.read_text()) == build_dashboard(), "run: python -m acdscope.grafana"
    panels = build_dashboard()["panels"]
    assert {panel["title"] for panel in panels} >= {"vendor scorecard", "setup comparison", "rta board"}
    for panel in panels:
        assert "{" not in panel["targets"][0]["rawSql"].replace("${tenant}", "").replace("${tz}", ""), panel[
            "title"
        ]


def test_the_compose_stack_reads_one_tenant_file_everywhere() -> None:
    """The worker, the terms step and the producer are told the same tenant file, and it is valid: the compose
    stack once simulated a tenant its engine configuration did not know, so every dashboard was empty."""
    from producers.simulator.scenario import scenario_from_tenant
    from streams.edge.engine_config import load_engine_config
    from streams.tenant import load_tenant_file

    services = _compose()["services"]
    in_image = services["worker"]["environment"]["ACDSCOPE_TENANT_FILES"]
    assert in_image == "/app/tenants/bank.toml"
    assert "ACDSCOPE_ENGINE_CONFIG" not in services["worker"]["environment"]
    local = ROOT / in_image.removeprefix("/app/")
    assert "COPY tenants ./tenants" in (ROOT / "Dockerfile").read_text()
    config = load_engine_config(None, [str(local)])
    assert config.tenant("bank").sources["vendor-a"].sla_credit == 0.05
    producer = services["producer"]["command"]
    assert producer[:4] == ["acdscope", "simulate", "--tenant", in_image]
    assert "--kafka" in producer
    assert "--forecast" in producer  # its intended demand, dated like the live run, for the breach causes
    assert scenario_from_tenant(load_tenant_file(local)).tenant() == "bank"
    assert "terms" in " ".join(services["migrate"]["command"])


USERS_FILE = "infra/clickhouse/users.d/dashboards.xml"


def _dashboards_user() -> tuple[ET.Element, ET.Element]:
    root = ET.parse(ROOT / USERS_FILE).getroot()
    user = root.find("users/dashboards")
    assert user is not None, "no <users><dashboards> in the users file"
    profile = root.find(f"profiles/{user.findtext('profile')}")
    assert profile is not None, "the dashboards user's profile is not defined beside it"
    return user, profile


def test_the_server_gets_the_read_only_dashboards_user() -> None:
    clickhouse = _compose()["services"]["clickhouse"]
    assert f"./{USERS_FILE}:/etc/clickhouse-server/users.d/dashboards.xml:ro" in clickhouse["volumes"]
    user, profile = _dashboards_user()
    assert profile.findtext("readonly") == "1"
    # The password is the server's environment, never the file's.
    password = user.find("password")
    assert password is not None
    assert password.get("from_env") == "ACDSCOPE_CLICKHOUSE_DASHBOARD_PASSWORD"
    assert not (password.text or "").strip()
    assert "ACDSCOPE_CLICKHOUSE_DASHBOARD_PASSWORD" in clickhouse["environment"]
    grants = [query.text for query in user.findall("grants/query")]
    assert grants == [f"GRANT SELECT ON {clickhouse['environment']['CLICKHOUSE_DB']}.*"]


def test_the_server_profile_is_the_local_endpoints() -> None:
    from infra.chdb_server import DASHBOARD_PROFILE
    from infra.chdb_server import DASHBOARD_USER

    user, profile = _dashboards_user()
    assert user.tag == DASHBOARD_USER
    assert {child.tag: child.text for child in profile if child.tag != "constraints"} == DASHBOARD_PROFILE
    # Grafana's data source sets max_execution_time on every query; readonly = 1 must let it.
    assert profile.find("constraints/max_execution_time/changeable_in_readonly") is not None


def test_the_dashboards_read_as_the_dashboards_user_only() -> None:
    services = _compose()["services"]
    password = services["clickhouse"]["environment"]["ACDSCOPE_CLICKHOUSE_DASHBOARD_PASSWORD"]
    source = yaml.safe_load((ROOT / "infra/grafana/provisioning/datasources/clickhouse.yml").read_text())
    grafana = source["datasources"][0]
    assert grafana["jsonData"]["username"] == "dashboards"
    assert grafana["secureJsonData"]["password"] == "${ACDSCOPE_CLICKHOUSE_DASHBOARD_PASSWORD}"
    assert services["grafana"]["environment"]["ACDSCOPE_CLICKHOUSE_DASHBOARD_PASSWORD"] == password
    page = services["dashboard"]["environment"]
    assert page["ACDSCOPE_CLICKHOUSE_DASHBOARD_PASSWORD"] == password
    assert "@" not in page["ACDSCOPE_CLICKHOUSE_DSN"], "the page must not hold the writer's credentials"
    fields = {name.removeprefix("ACDSCOPE_").lower(): value for name, value in page.items()}
    dsn = Settings(**fields, clickhouse_dashboard_dsn=None)
    url = urlsplit(dsn.dashboard_dsn())
    writer = urlsplit(services["worker"]["environment"]["ACDSCOPE_CLICKHOUSE_DSN"])
    assert (url.username, url.hostname, url.port, url.path) == (
        "dashboards",
        writer.hostname,
        writer.port,
        writer.path,
    )
