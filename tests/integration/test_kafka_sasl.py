"""The clients' SASL settings against a real broker: the local broker's SASL/PLAIN listener takes the project's
own producers and admin (kafka-python, from `Settings.kafka_security()`) and a Faust-configured aiokafka
consumer (from `Settings.faust_credentials()`), and refuses a wrong password."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from kafka.errors import KafkaError

from acdscope.settings import Settings
from infra.kafka_local import LOCAL_SASL_PASSWORD
from infra.kafka_local import LOCAL_SASL_USER
from infra.kafka_local import KafkaLocal
from producers.kafka_out import ensure_topics
from producers.kafka_out import publish_raw

pytestmark = pytest.mark.integration


def _sasl(password: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username=LOCAL_SASL_USER,
        kafka_sasl_password=password,
    )


async def _consume_one(bootstrap: str, topic: str, settings: Settings) -> bytes:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=f"sasl-{uuid.uuid4().hex[:6]}",
        **credentials_to_aiokafka_auth(settings.faust_credentials()),
    )
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), timeout=30)
        return bytes(message.value or b"")
    finally:
        await consumer.stop()


def test_sasl_clients_round_trip_and_a_wrong_password_is_refused(servers) -> None:
    bootstrap = KafkaLocal.from_env().sasl_bootstrap
    topic = f"acd.sasl-check.{uuid.uuid4().hex[:8]}"
    good = _sasl(LOCAL_SASL_PASSWORD)
    ensure_topics(bootstrap, {topic: 1}, good.kafka_security())
    assert publish_raw(bootstrap, topic, [(b"k", b"over SASL")], good.kafka_security()) == 1
    assert asyncio.run(_consume_one(bootstrap, topic, good)) == b"over SASL"
    # The broker refuses the login; kafka-python reports it as a failed bootstrap (5 s here, not the 30 s default).
    from kafka import KafkaAdminClient

    with pytest.raises(KafkaError):
        KafkaAdminClient(bootstrap_servers=bootstrap, bootstrap_timeout_ms=5_000,
                         **_sasl("wrong-password").kafka_security())  # fmt: skip
