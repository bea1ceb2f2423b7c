"""The dashboards' read-only ClickHouse user on the local endpoint (issue 8): every dashboard runs as
`dashboards` and answers what the writer's own connection answers; every kind of write is refused with
ClickHouse's READONLY error, through clickhouse-connect and as raw HTTP; a wrong password is refused with
AUTHENTICATION_FAILED; `default` still writes; and the CLI's dashboard commands connect as `dashboards`.

Starts its own endpoint on a free port and a temporary data directory; never touches the shared one.
"""

from __future__ import annotations

import base64
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError
from pydantic import SecretStr
from rich.console import Console
from typer.testing import CliRunner

from acdscope.dashboards import DashboardResult
from acdscope.dashboards import available
from acdscope.dashboards import parameters_of
from acdscope.dashboards import run
from acdscope.demo import demo_config
from acdscope.demo import load_scenarios
from acdscope.settings import Settings
from infra.chdb_server import DASHBOARD_USER
from infra.chdb_server import ChdbServer
from infra.chdb_server import dashboard_password
from streams.warehouse.client import connect
from streams.warehouse.migrations import migrate
from streams.warehouse.terms import load_terms
from tests.support.scenarios import small

pytestmark = pytest.mark.integration

SMALL = small("ro")
FROM, UNTIL = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
REFUSED = {
    "insert": "INSERT INTO probe VALUES (3)",
    "insert select": "INSERT INTO probe SELECT 4",
    "create table": "CREATE TABLE other (x UInt8) ENGINE = MergeTree ORDER BY x",
    "create database": "CREATE DATABASE other",
    "drop": "DROP TABLE probe",
    "alter delete": "ALTER TABLE probe DELETE WHERE 1",
    "alter add column": "ALTER TABLE probe ADD COLUMN y UInt8",
    "truncate": "TRUNCATE TABLE probe",
    "rename": "RENAME TABLE probe TO renamed",
    "optimize": "OPTIMIZE TABLE probe FINAL",
    "set": "SET max_threads = 1",
    "set readonly": "SET readonly = 0",
    "system": "SYSTEM DROP MARK CACHE",
    "kill": "KILL QUERY WHERE 1",
    "select then drop": "SELECT 1; DROP TABLE probe",
    "comment then drop": "SELECT 1 -- a comment\n; DROP TABLE probe",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbServer]:
    root = tmp_path_factory.mktemp("chdb-readonly")
    server = ChdbServer(root=root, data_dir=root / "data", port=_free_port())
    server.start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def loaded(endpoint: ChdbServer) -> Iterator[tuple[str, list[str]]]:
    """A database filled by the engine (as `default`), and its tenants."""
    database = f"ro_{uuid.uuid4().hex[:12]}"
    admin = connect(f"{endpoint.url}/default")
    admin.command(f"CREATE DATABASE {database}")
    writer = connect(f"{endpoint.url}/{database}")
    migrate(writer)
    outcome = load_scenarios(writer, SMALL)
    tenants = [scenario.name for scenario in outcome.scenarios]
    # What the small day leaves empty, so that every dashboard has rows to compare: a contracted share
    # (split_drift) and an agent out of adherence now (rta_board).
    config = demo_config(outcome.scenarios)
    for terms in config.tenants.values():
        terms.sources["vendor-a"] = terms.sources["vendor-a"].model_copy(update={"contracted_share": 0.5})
    load_terms(writer, config)
    since = datetime(2026, 1, 5, 10, tzinfo=UTC)
    writer.insert(
        "adherence_live",
        [[tenants[0], "agent-x", "in-house", "team-1", 1, since, 900_000, 1, "on_queue", "break", "short", since, 1]],
        column_names=["tenant", "agent_id", "source", "team", "is_out", "since", "duration_ms", "severe",
                      "activity", "state", "impact", "as_of", "version"],
    )  # fmt: skip
    writer.command("CREATE TABLE probe (x UInt8) ENGINE = MergeTree ORDER BY x")
    writer.insert("probe", [[1], [2]])
    try:
        yield database, tenants
    finally:
        admin.command(f"DROP DATABASE IF EXISTS {database} SYNC")


def _writer(endpoint: ChdbServer, database: str) -> Client:
    return connect(f"{endpoint.url}/{database}")


def _reader(endpoint: ChdbServer, database: str) -> Client:
    """The dashboards' client exactly as the CLI builds it: from the writer's DSN, through the settings."""
    settings = Settings(
        clickhouse_dsn=f"{endpoint.url}/{database}",
        clickhouse_dashboard_password=SecretStr(dashboard_password()),
    )
    return connect(settings.dashboard_dsn())


def _parameters(name: str, tenant: str) -> dict[str, Any]:
    kinds = parameters_of(name)
    values: dict[str, Any] = {"tenant": tenant, "tz": "UTC", "min_duration_s": 0}
    for bound, moment in (("from", FROM), ("until", UNTIL)):
        values[bound] = moment.date() if kinds.get(bound) == "Date" else moment
    return {key: values[key] for key in kinds}


def _rows(endpoint: ChdbServer, database: str) -> int:
    return int(_writer(endpoint, database).command("SELECT count() FROM probe"))


def test_every_dashboard_runs_as_the_dashboards_user_and_agrees_with_the_writer(
    endpoint: ChdbServer, loaded: tuple[str, list[str]]
) -> None:
    database, tenants = loaded
    reader, writer = _reader(endpoint, database), _writer(endpoint, database)
    assert reader.command("SELECT getSetting('readonly')") == 1  # the engine's own guard is on
    seen: dict[str, int] = {}
    for name in available():
        for tenant in tenants if "tenant" in parameters_of(name) else tenants[:1]:
            params = _parameters(name, tenant)
            got: DashboardResult = run(reader, name, params)
            assert got == run(writer, name, params), (name, tenant)
            seen[name] = seen.get(name, 0) + len(got.rows)
    assert seen["setup_comparison"] == 9
    assert all(seen.values()), seen


@pytest.mark.parametrize("statement", REFUSED.values(), ids=REFUSED.keys())
def test_the_dashboards_user_cannot_write(
    endpoint: ChdbServer, loaded: tuple[str, list[str]], statement: str
) -> None:
    database, _ = loaded
    with pytest.raises(DatabaseError) as refused:
        _reader(endpoint, database).command(statement)
    assert "Code: 164. DB::Exception: dashboards: Cannot execute query in readonly mode" in str(refused.value)
    assert _rows(endpoint, database) == 2
    assert _writer(endpoint, database).command("EXISTS TABLE other") == 0


def test_client_insert_is_refused(endpoint: ChdbServer, loaded: tuple[str, list[str]]) -> None:
    database, _ = loaded
    with pytest.raises(DatabaseError, match=r"Code: 164\..*\(READONLY\)"):
        _reader(endpoint, database).insert("probe", [[5], [6]])
    assert _rows(endpoint, database) == 2


def test_into_outfile_writes_no_file(
    endpoint: ChdbServer, loaded: tuple[str, list[str]], tmp_path: Path
) -> None:
    # readonly = 1 alone lets chDB write it: the endpoint's own statement check is what stops it.
    database, _ = loaded
    target = tmp_path / "leak.csv"
    with pytest.raises(DatabaseError, match=r"Code: 164\."):
        _reader(endpoint, database).command(f"SELECT * FROM probe INTO OUTFILE '{target}' FORMAT CSV")
    assert not target.exists()


def test_the_engine_itself_refuses_what_the_statement_check_lets_through(
    endpoint: ChdbServer, loaded: tuple[str, list[str]]
) -> None:
    database, _ = loaded
    reader = _reader(endpoint, database)
    with pytest.raises(DatabaseError, match="Cannot modify 'join_use_nulls' setting in readonly mode"):
        reader.command("SELECT 1 SETTINGS join_use_nulls = 0")
    with pytest.raises(
        DatabaseError, match=r"Code: 164\..*dashboards: Cannot execute query in readonly mode"
    ):
        reader.command("SELECT * FROM file('/etc/hostname', 'LineAsString')")
    status, headers, body = _http(endpoint, database, "SELECT 1", auth=_basic(), extra="&max_result_rows=7")
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (500, "164"), body
    assert b"Cannot modify 'max_result_rows' setting in readonly mode" in body
    assert _writer(endpoint, database).command("SELECT getSetting('readonly')") == 0


def _basic(user: str = DASHBOARD_USER, password: str | None = None) -> dict[str, str]:
    pair = f"{user}:{dashboard_password() if password is None else password}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def _http(
    endpoint: ChdbServer,
    database: str,
    query: str,
    body: bytes = b"",
    auth: dict[str, str] | None = None,
    extra: str = "",
) -> tuple[int, dict[str, str], bytes]:
    url = f"{endpoint.url}/?database={database}" + (f"&query={urllib.parse.quote(query)}" if query else "")
    request = urllib.request.Request(url + extra, data=body or None, headers=auth or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("INSERT INTO probe FORMAT TabSeparated", b"7\n8\n"),
        ("", b"INSERT INTO probe FORMAT TabSeparated\n7\n8\n"),
        ("INSERT INTO probe VALUES", b"(7), (8)"),
    ],
    ids=["data in the body", "statement and data in the body", "values in the body"],
)
def test_inserts_sent_as_http_bodies_are_refused_and_default_still_writes(
    endpoint: ChdbServer, loaded: tuple[str, list[str]], query: str, body: bytes
) -> None:
    database, _ = loaded
    status, headers, text = _http(endpoint, database, query, body, _basic())
    assert status == 500
    assert headers["X-ClickHouse-Exception-Code"] == "164"
    assert text.startswith(b"Code: 164. DB::Exception: dashboards: Cannot execute query in readonly mode.")
    assert _rows(endpoint, database) == 2
    # The same request as `default` writes: the refusal is the user's, not the request's shape.
    status, _, text = _http(endpoint, database, query, body)
    assert status == 200, text
    try:
        assert _rows(endpoint, database) == 4
    finally:
        _writer(endpoint, database).command(
            "ALTER TABLE probe DELETE WHERE x > 2 SETTINGS mutations_sync = 1"
        )


def _header_auth(password: str) -> dict[str, str]:
    return {"X-ClickHouse-User": DASHBOARD_USER, "X-ClickHouse-Key": password}


@pytest.mark.parametrize("form", ["basic", "headers", "parameters"])
def test_every_credential_form_authenticates_as_dashboards(
    endpoint: ChdbServer, loaded: tuple[str, list[str]], form: str
) -> None:
    database, _ = loaded

    def ask(query: str, password: str) -> tuple[int, dict[str, str], bytes]:
        if form == "basic":
            return _http(endpoint, database, query, auth=_basic(password=password))
        if form == "headers":
            return _http(endpoint, database, query, auth=_header_auth(password))
        secret = urllib.parse.quote(password)
        return _http(endpoint, database, query, extra=f"&user={DASHBOARD_USER}&password={secret}")

    status, _, body = ask("SELECT count() FROM probe", dashboard_password())
    assert (status, body) == (200, b"2\n")
    # Read-only, so it really is `dashboards` and not a fallback to `default`.
    status, headers, _ = ask("DROP TABLE probe", dashboard_password())
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (500, "164")
    status, headers, body = ask("SELECT 1", "not-the-password")
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (403, "516")
    assert body.startswith(
        b"Code: 516. DB::Exception: dashboards: Authentication failed: password is incorrect, "
        b"or there is no user with such name."
    )
    assert _rows(endpoint, database) == 2


def test_wrong_password_unknown_user_and_mixed_credentials_are_refused(
    endpoint: ChdbServer, loaded: tuple[str, list[str]]
) -> None:
    database, _ = loaded
    for user, password in ((DASHBOARD_USER, "wrong"), ("nobody", ""), ("default", "any")):
        with pytest.raises(DatabaseError, match=r"Code: 516\..*\(AUTHENTICATION_FAILED\)"):
            connect(f"http://{user}:{password}@127.0.0.1:{endpoint.port}/{database}").command("SELECT 1")
    mixed = {**_basic(), **_header_auth(dashboard_password())}
    status, headers, body = _http(endpoint, database, "SELECT 1", auth=mixed)
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (403, "516")
    assert b"not allowed to use X-ClickHouse HTTP headers and Authorization HTTP header" in body


def test_default_user_still_writes(endpoint: ChdbServer, loaded: tuple[str, list[str]]) -> None:
    database, _ = loaded
    writer = _writer(endpoint, database)
    writer.command("CREATE TABLE scratch (x UInt8) ENGINE = MergeTree ORDER BY x")
    try:
        writer.insert("scratch", [[1], [2], [3]])
        assert writer.command("SELECT sum(x) FROM scratch") == 6
    finally:
        writer.command("DROP TABLE scratch")


@pytest.mark.parametrize("command", ["query", "report"])
def test_the_cli_dashboards_connect_as_the_dashboards_user(
    endpoint: ChdbServer,
    loaded: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    command: str,
) -> None:
    from acdscope import cli

    database, _ = loaded
    args = {
        "query": ["query", "setup_comparison", "--from", "2026-01-01", "--until", "2027-01-01"],
        "report": ["report", "--out", str(tmp_path / "r.html"), "--from", "2026-01-01"],
    }[command]

    def invoke(password: str) -> Any:
        settings = Settings(
            clickhouse_dsn=f"{endpoint.url}/{database}", clickhouse_dashboard_password=SecretStr(password)
        )
        monkeypatch.setattr(cli, "get_settings", lambda: settings)
        monkeypatch.setattr(cli, "console", Console(width=400))  # whole cells, not "vir…"
        return CliRunner().invoke(cli.app, args)

    result = invoke(dashboard_password())
    assert result.exit_code == 0, result.output
    assert sum("virtualized" in line for line in result.output.splitlines()) == 3, result.output
    refused = invoke("not-the-password")  # the writer needs no password: only `dashboards` can fail here
    assert isinstance(refused.exception, DatabaseError)
    assert "Code: 516." in str(refused.exception)
