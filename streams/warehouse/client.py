"""Open a `clickhouse-connect` client from one DSN, whatever is behind it.

`http://host:port/db` reaches a ClickHouse server or the local chDB endpoint; `chdb:///dir` runs the engine
in-process (the embedded default). Nothing else in the project builds clients.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client


def connect(dsn: str, **settings: Any) -> Client:
    """One client per DSN; in-process chDB allows one data directory per process, so callers reuse it.

    `tz_mode="aware"`: every timestamp in the project is aware UTC, and the client's default hands UTC
    columns back naive, which would silently compare unequal to the engine's own values.
    """
    if dsn.startswith("chdb:"):
        path = dsn.removeprefix("chdb://") or ":memory:"
        return clickhouse_connect.get_client(
            interface="chdb", path=path, settings=settings or None, tz_mode="aware"
        )
    return clickhouse_connect.get_client(dsn=dsn, settings=settings or None, tz_mode="aware")


def describe(dsn: str) -> str:
    """The DSN for a log line: scheme, host, port and database, never the user or password."""
    if dsn.startswith("chdb:"):
        return dsn
    parts = urlsplit(dsn)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"
