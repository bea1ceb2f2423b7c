"""The local endpoint's guards for its read-only user, without a server: which statements count as reads
(lexed as ClickHouse lexes them, so nothing hides in a comment or a literal) and how credentials are read."""

from __future__ import annotations

import base64
from email.message import Message

import pytest

from acdscope.dashboards import available
from acdscope.dashboards import load
from infra.chdb_server import DASHBOARD_USER
from infra.chdb_server import _ClickHouseError
from infra.chdb_server import authenticate
from infra.chdb_server import credentials
from infra.chdb_server import is_read_statement
from infra.chdb_server import local_users

READS = [
    "SELECT 1",
    "  select 1\n",
    "(SELECT 1)",
    "WITH a AS (SELECT 1 AS x) SELECT x FROM a",
    "SHOW TABLES",
    "DESCRIBE TABLE calls",
    "desc calls",
    "EXISTS TABLE calls",
    "EXPLAIN SELECT 1",
    "-- a comment\nSELECT 1",
    "/* a /* nested */ comment */ SELECT 1",
    "# a comment\nSELECT 1",
    "SELECT 1;",
    "SELECT 1; -- trailing comment",
    "SELECT 1 ;\n\n",
    "SELECT ';DROP TABLE t'",
    "SELECT 'it''s; DROP TABLE t'",
    r"SELECT 'a\'; DROP TABLE t; '",
    "SELECT `;` FROM t",
    'SELECT ";" FROM t',
    "SELECT $$; DROP TABLE t$$",
    "SELECT $tag$ ' $tag$",
    "SELECT x'3b', b'0'",
    "SELECT 1 FORMAT Native",
    "SELECT into, outfile FROM t",
    "SELECT * FROM t WHERE a = {tenant:String} SETTINGS join_use_nulls = 1",
]
WRITES = [
    "",
    "   \n",
    "-- only a comment",
    "INSERT INTO t VALUES (1)",
    "insert into t select 1",
    "CREATE TABLE t (x UInt8) ENGINE = Memory",
    "DROP TABLE t",
    "ALTER TABLE t DELETE WHERE 1",
    "TRUNCATE TABLE t",
    "SET readonly = 0",
    "OPTIMIZE TABLE t FINAL",
    "SYSTEM FLUSH LOGS",
    "RENAME TABLE a TO b",
    "KILL QUERY WHERE 1",
    "USE other",
    "GRANT SELECT ON *.* TO dashboards",
    "/* a comment */ DROP TABLE t",
    "(DROP TABLE t)",
    "SELECT 1; DROP TABLE t",
    "SELECT 1;DROP TABLE t",
    "SELECT 1;;DROP TABLE t",
    "SELECT 1 -- a comment\n; DROP TABLE t",
    "SELECT 1 /* ; */ ; DROP TABLE t",
    "SELECT 1 /* a /* nested */ ; still a comment */ ; DROP TABLE t",
    # A quote inside a comment or a here-document starts no literal for ClickHouse, so none may here.
    "SELECT 1 -- it's\n; DROP TABLE t; SELECT '",
    "SELECT 1 # it's\n; DROP TABLE t; SELECT '",
    "SELECT 1 // it's\n; DROP TABLE t; SELECT '",
    "SELECT $$'$$; DROP TABLE t; SELECT '$$'",
    "SELECT 1 INTO OUTFILE '/tmp/x.csv'",
    "select * from t into /* sneaky */ outfile '/tmp/x.csv' format CSV",
    "SHOW TABLES INTO OUTFILE '/tmp/x'",
    "SELECT 'unclosed",
    "SELECT 1 /* unclosed",
    "SELECT 1 #no-space-is-no-comment",
    "SELECT x'zz'",
]


@pytest.mark.parametrize("sql", READS)
def test_reads_are_reads(sql: str) -> None:
    assert is_read_statement(sql)


@pytest.mark.parametrize("sql", WRITES)
def test_everything_else_is_not(sql: str) -> None:
    assert not is_read_statement(sql)


def test_every_dashboard_is_a_read() -> None:
    for name in available():
        assert is_read_statement(load(name)), name


def _headers(**values: str) -> Message:
    message = Message()
    for name, value in values.items():
        message[name.replace("_", "-")] = value
    return message


def _basic(pair: str) -> str:
    return "Basic " + base64.b64encode(pair.encode()).decode()


@pytest.mark.parametrize(
    ("headers", "params", "expected"),
    [
        ({}, {}, ("default", "")),
        ({"Authorization": _basic("dashboards:pa:ss")}, {}, ("dashboards", "pa:ss")),
        ({"X_ClickHouse_User": "dashboards", "X_ClickHouse_Key": "pw"}, {}, ("dashboards", "pw")),
        ({}, {"user": "dashboards", "password": "pw"}, ("dashboards", "pw")),
        ({}, {"password": "pw"}, ("default", "pw")),
    ],
    ids=["none", "basic", "headers", "parameters", "password only"],
)
def test_credentials_come_from_one_place(
    headers: dict[str, str], params: dict[str, str], expected: tuple[str, str]
) -> None:
    assert credentials(_headers(**headers), params, "v") == expected


@pytest.mark.parametrize(
    ("headers", "params", "message"),
    [
        ({"Authorization": _basic("a:b"), "X_ClickHouse_User": "a"}, {}, "not allowed to use X-ClickHouse"),
        ({"Authorization": _basic("a:b")}, {"user": "a"}, "Authorization HTTP header and authentication via"),
        ({"X_ClickHouse_Key": "b"}, {}, "empty user name from X-ClickHouse HTTP headers"),
        ({"Authorization": _basic(":b")}, {}, "empty user name from Authorization HTTP header"),
        ({"Authorization": "Bearer token"}, {}, "'Bearer' HTTP Authorization scheme is not supported"),
        ({"Authorization": "Basic not base64!"}, {}, "malformed Basic credentials"),
    ],
    ids=[
        "headers and basic",
        "basic and parameters",
        "key without user",
        "empty basic user",
        "bearer",
        "bad",
    ],
)
def test_mixed_or_malformed_credentials_are_refused(
    headers: dict[str, str], params: dict[str, str], message: str
) -> None:
    with pytest.raises(_ClickHouseError, match=message) as refused:
        credentials(_headers(**headers), params, "v")
    assert (refused.value.code, refused.value.status) == (516, 403)


def test_only_the_right_password_authenticates() -> None:
    users = local_users("secret")
    assert authenticate(users, DASHBOARD_USER, "secret", "v").readonly
    assert not authenticate(users, "default", "", "v").readonly
    for name, password in ((DASHBOARD_USER, "wrong"), (DASHBOARD_USER, ""), ("default", "x"), ("nobody", "")):
        with pytest.raises(_ClickHouseError) as refused:
            authenticate(users, name, password, "v")
        assert refused.value.text.startswith(f"Code: 516. DB::Exception: {name}: Authentication failed")
        assert "secret" not in refused.value.text
    assert "secret" not in repr(users)
