"""One frozen settings object for every process: broker, ClickHouse DSN, topics, batch sizes.

Read from `ACDSCOPE_*` environment variables (or a `.env` file); it imports nothing of ours, so every
package may depend on it without cycles.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Defaults match the local servers under `infra/`, so a fresh clone needs no configuration."""

    model_config = SettingsConfigDict(env_prefix="ACDSCOPE_", env_file=".env", frozen=True, extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:19092"
    # Faust refuses a topic whose partition count differs from `topic_partitions`; both sides read this.
    topic_partitions: int = Field(default=4, ge=1)
    topic_contact_events: str = "acd.contact-events"
    topic_agent_events: str = "acd.agent-events"
    topic_vendor_reports: str = "acd.vendor-reports"
    # Internal: customer-call outcomes re-keyed by caller, for repeat contacts (the FCR proxy).
    topic_caller_contacts: str = "acd.caller-contacts"
    topic_dead_letter: str = "acd.dead-letter"
    # Engine settings and tenants (setup per tenant): a JSON or TOML file; defaults when unset.
    engine_config: str | None = None
    faust_app_id: str = "acdscope"
    faust_data_dir: str = ".local/faust"
    # How long the group waits for a silent worker before handing its partitions to another: a worker that
    # died (SIGKILL, lost host) holds its partitions this long.
    faust_session_timeout_s: float = Field(default=30.0, gt=1)

    # `http://host:port/db` for a server (or the local chDB endpoint), `chdb:///abs/dir` for in-process chDB.
    clickhouse_dsn: str = "http://127.0.0.1:18123/default"

    interval_minutes: int = Field(default=15, ge=1, le=1440)
    # The sink flushes whichever comes first (issue 4: "about 1 s or 10k rows").
    sink_max_rows: int = Field(default=10_000, ge=1)
    sink_max_age_s: float = Field(default=1.0, gt=0)
    # Engine state is checkpointed this often; offsets are committed only up to the last checkpoint.
    checkpoint_interval_s: float = Field(default=5.0, gt=0)
    # At most this many records per fetch, i.e. per batch the worker processes.
    consume_batch_max: int = Field(default=10_000, ge=1)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Cached so a worker reads its environment once; tests build `Settings(...)` directly instead."""
    return Settings()
