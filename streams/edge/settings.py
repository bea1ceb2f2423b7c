"""The streaming deployment's settings: broker, ClickHouse DSN, topics, batch and checkpoint sizes.

Read from `ACDSCOPE_*` environment variables (or a `.env` file) by the worker's entry module
(`streams.edge.app`) and by `acdscope`'s settings, which extend these; everything else in `streams` is handed
what it needs. Imports nothing of ours.
"""

from __future__ import annotations

from typing import Any
from typing import Literal

from pydantic import Field
from pydantic import SecretStr
from pydantic import model_validator
from pydantic_settings import BaseSettings
from pydantic_settings import SettingsConfigDict


class EdgeSettings(BaseSettings):
    """Defaults match the local servers under `infra/`, so a fresh clone needs no configuration."""

    model_config = SettingsConfigDict(env_prefix="ACDSCOPE_", env_file=".env", frozen=True, extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:19092"
    # Broker security, for every Kafka client of the project (the worker, producers, replay, topic admin).
    # The password is a secret: it is never part of the settings' repr, a log line or an error message.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = (
        None  # CA bundle that signed the brokers' certificates (system CAs if unset)
    )
    kafka_ssl_certfile: str | None = None  # client certificate and key, for brokers that require mutual TLS
    kafka_ssl_keyfile: str | None = None
    # Faust refuses a topic whose partition count differs from `topic_partitions`; both sides read this.
    topic_partitions: int = Field(default=4, ge=1)
    topic_contact_events: str = "acd.contact-events"
    topic_agent_events: str = "acd.agent-events"
    topic_vendor_reports: str = "acd.vendor-reports"
    # Internal: customer-call outcomes re-keyed by caller, for repeat contacts (the FCR proxy).
    topic_caller_contacts: str = "acd.caller-contacts"
    topic_dead_letter: str = "acd.dead-letter"
    # Internal: each contact partition's interval counters and watermark, keyed by tenant, for the alert stage.
    topic_alert_inputs: str = "acd.alert-inputs"
    # Every alert transition (fired, resolved) as JSON, keyed by alert id: what the webhook delivery consumes.
    topic_alerts: str = "acd.alerts"
    # Where alert transitions are POSTed (`acdscope alerts-webhook`), and the secret their signature is made
    # with (HMAC-SHA256; never logged). No URL: alerts stay in the `alerts` table and topic.
    alert_webhook_url: str | None = None
    alert_webhook_secret: SecretStr | None = None
    alert_webhook_timeout_s: float = Field(default=10.0, gt=0)
    # Engine settings and tenants (setup per tenant): a JSON or TOML file; defaults when unset.
    engine_config: str | None = None
    # The deployment's tenant files (`streams.tenant`), comma-separated: each adds its tenant, contracts and
    # engine settings to the engine configuration, for the worker and `acdscope terms` alike.
    tenant_files: str = ""
    faust_app_id: str = "acdscope"
    faust_data_dir: str = ".local/faust"
    # How long the group waits for a silent worker before handing its partitions to another: a worker that
    # died (SIGKILL, lost host) holds its partitions this long.
    faust_session_timeout_s: float = Field(default=30.0, gt=1)

    # `http://host:port/db` for a server (or the local chDB endpoint), `chdb:///abs/dir` for in-process chDB.
    clickhouse_dsn: str = "http://127.0.0.1:18123/default"
    # The sink flushes whichever comes first (issue 4: "about 1 s or 10k rows").
    sink_max_rows: int = Field(default=10_000, ge=1)
    sink_max_age_s: float = Field(default=1.0, gt=0)
    # Engine state is checkpointed this often; offsets are committed only up to the last checkpoint.
    checkpoint_interval_s: float = Field(default=5.0, gt=0)
    # At most this many records per fetch, i.e. per batch the worker processes.
    consume_batch_max: int = Field(default=10_000, ge=1)
    # How long the broker may hold a fetch open waiting for new data. The client keeps one fetch in flight per
    # broker, so a partition drained meanwhile waits for it: Faust's fixed 1.5 s stalled a busy worker for up
    # to that long whenever one of its partitions (a quiet topic, a finished one) had nothing new.
    consume_fetch_max_wait_ms: int = Field(default=100, ge=1, le=1_500)

    @model_validator(mode="after")
    def _security_complete(self) -> EdgeSettings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_username
            and self.kafka_sasl_password
            and self.kafka_sasl_password.get_secret_value()
        ):
            raise ValueError(
                f"ACDSCOPE_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "ACDSCOPE_KAFKA_SASL_USERNAME and ACDSCOPE_KAFKA_SASL_PASSWORD"
            )
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise ValueError("ACDSCOPE_KAFKA_SSL_CERTFILE and ACDSCOPE_KAFKA_SSL_KEYFILE go together")
        return self

    def tenant_paths(self) -> list[str]:
        return [path.strip() for path in self.tenant_files.split(",") if path.strip()]

    def kafka_security(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python clients (producer, admin, consumer): empty for PLAINTEXT."""
        options: dict[str, Any] = {}
        if self.kafka_security_protocol == "PLAINTEXT":
            return options
        options["security_protocol"] = self.kafka_security_protocol
        if self.kafka_security_protocol.startswith("SASL_"):
            assert self.kafka_sasl_password is not None
            options.update(
                sasl_mechanism=self.kafka_sasl_mechanism,
                sasl_plain_username=self.kafka_sasl_username,
                sasl_plain_password=self.kafka_sasl_password.get_secret_value(),
            )
        if self.kafka_security_protocol.endswith("SSL"):
            for key in ("cafile", "certfile", "keyfile"):
                value = getattr(self, f"kafka_ssl_{key}")
                if value:
                    options[f"ssl_{key}"] = value
        return options

    def faust_credentials(self) -> Any:
        """The same security for the Faust worker (`broker_credentials`): None for PLAINTEXT."""
        if self.kafka_security_protocol == "PLAINTEXT":
            return None
        import faust
        from aiokafka.helpers import create_ssl_context

        context = (
            create_ssl_context(
                cafile=self.kafka_ssl_cafile, certfile=self.kafka_ssl_certfile, keyfile=self.kafka_ssl_keyfile
            )
            if self.kafka_security_protocol.endswith("SSL")
            else None
        )
        if self.kafka_security_protocol == "SSL":
            return faust.SSLCredentials(context)
        assert self.kafka_sasl_password is not None
        return faust.SASLCredentials(
            username=self.kafka_sasl_username,
            password=self.kafka_sasl_password.get_secret_value(),
            mechanism=self.kafka_sasl_mechanism,
            ssl_context=context,
        )
