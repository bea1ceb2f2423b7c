"""The dashboards' DSN: the writer's server and database as the read-only user, unless set outright; the
password a secret that the settings never show."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from acdscope.settings import Settings
from infra.chdb_server import DASHBOARD_PASSWORD_ENV
from infra.chdb_server import DASHBOARD_USER
from infra.chdb_server import LOCAL_DASHBOARD_PASSWORD


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ACDSCOPE_CLICKHOUSE_DSN", "ACDSCOPE_CLICKHOUSE_DASHBOARD_DSN", DASHBOARD_PASSWORD_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")  # no .env file


def test_by_default_the_local_endpoint_as_dashboards_with_its_development_password() -> None:
    url = urlsplit(Settings().dashboard_dsn())
    assert (url.username, url.password) == (DASHBOARD_USER, LOCAL_DASHBOARD_PASSWORD)
    assert (url.hostname, url.port, url.path) == ("127.0.0.1", 18123, "/default")


def test_the_writers_server_and_database_with_the_dashboards_credentials() -> None:
    settings = Settings(
        clickhouse_dsn="https://writer:w-secret@ch.example:8443/acdscope?secure=true",
        clickhouse_dashboard_password="p@ss:/word",
    )
    dsn = settings.dashboard_dsn()
    assert dsn == "https://dashboards:p%40ss%3A%2Fword@ch.example:8443/acdscope?secure=true"
    assert "w-secret" not in dsn
    assert settings.clickhouse_dsn.startswith("https://writer:")  # the worker's own DSN is untouched


def test_the_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DASHBOARD_PASSWORD_ENV, "from-env")
    monkeypatch.setenv("ACDSCOPE_CLICKHOUSE_DSN", "http://clickhouse:8123/acdscope")
    assert Settings().dashboard_dsn() == "http://dashboards:from-env@clickhouse:8123/acdscope"


def test_an_explicit_dsn_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACDSCOPE_CLICKHOUSE_DASHBOARD_DSN", "http://grafana_ro:x@other:8123/db")
    assert Settings().dashboard_dsn() == "http://grafana_ro:x@other:8123/db"


def test_in_process_chdb_has_no_users() -> None:
    assert Settings(clickhouse_dsn="chdb:///tmp/demo").dashboard_dsn() == "chdb:///tmp/demo"


def test_secrets_stay_out_of_the_settings_repr() -> None:
    settings = Settings(
        clickhouse_dashboard_password="pw-one", clickhouse_dashboard_dsn="http://u:pw-two@h:8123/d"
    )
    for shown in (repr(settings), str(settings), str(settings.model_dump())):
        assert "pw-one" not in shown
        assert "pw-two" not in shown
