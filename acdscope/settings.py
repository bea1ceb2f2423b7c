"""One frozen settings object for every `acdscope` process: the streaming deployment's (`EdgeSettings`), plus
what only people's tools read (the dashboards' read-only connection).

Read from `ACDSCOPE_*` environment variables (or a `.env` file).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr

from streams.edge.settings import EdgeSettings


class Settings(EdgeSettings):
    """Defaults match the local servers under `infra/`, so a fresh clone needs no configuration."""

    # The dashboards (`acdscope query`, `report`, `dashboard`) read through a read-only user; the worker, the
    # sink and migrations keep `clickhouse_dsn`. Unset, the dashboards' DSN is the same server and database as
    # user `dashboards` with `clickhouse_dashboard_password`, by default the local endpoint's development one.
    # Both are secrets: never part of the settings' repr, a log line or an error message.
    clickhouse_dashboard_dsn: SecretStr | None = None
    clickhouse_dashboard_password: SecretStr = SecretStr("acdscope-dashboards-local-dev")
    # Where `acdscope up` records what it started (state.json, by PID) and its processes' logs.
    up_dir: str = ".local/up"
    # Where `acdscope simulate --kafka` writes a run's truth tables unless --out says.
    runs_dir: str = ".local/runs"

    def dashboard_dsn(self) -> str:
        """The DSN the dashboards connect with. It holds the password: hand it to `connect`, never to a log.

        In-process chDB (`chdb:`) has no users; the dashboards then read the writer's own directory.
        """
        from urllib.parse import quote
        from urllib.parse import urlsplit
        from urllib.parse import urlunsplit

        if self.clickhouse_dashboard_dsn is not None:
            return self.clickhouse_dashboard_dsn.get_secret_value()
        if self.clickhouse_dsn.startswith("chdb:"):
            return self.clickhouse_dsn
        url = urlsplit(self.clickhouse_dsn)
        password = quote(self.clickhouse_dashboard_password.get_secret_value(), safe="")
        host = url.netloc.rpartition("@")[2]
        return urlunsplit(url._replace(netloc=f"dashboards:{password}@{host}"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Cached so a process reads its environment once; tests build `Settings(...)` directly instead."""
    return Settings()
