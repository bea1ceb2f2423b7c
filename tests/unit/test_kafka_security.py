"""Kafka SASL / TLS from configuration: the same settings become kafka-python keyword arguments and Faust
broker credentials (checked through Faust's own translation to aiokafka), and the password never shows."""

from __future__ import annotations

import logging

import certifi
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import ValidationError

from acdscope.settings import Settings

SECRET = "s3cret-do-not-print"


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_plaintext_adds_nothing() -> None:
    settings = _settings()
    assert settings.kafka_security() == {}
    assert settings.faust_credentials() is None


def test_sasl_over_tls_for_both_clients() -> None:
    settings = _settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="acdscope",
        kafka_sasl_password=SECRET,
        kafka_ssl_cafile=certifi.where(),
    )
    assert settings.kafka_security() == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "acdscope",
        "sasl_plain_password": SECRET,
        "ssl_cafile": certifi.where(),
    }
    auth = credentials_to_aiokafka_auth(settings.faust_credentials())
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (auth["sasl_plain_username"], auth["sasl_plain_password"]) == ("acdscope", SECRET)
    assert auth["ssl_context"] is not None


def test_tls_only_and_sasl_without_tls() -> None:
    tls = credentials_to_aiokafka_auth(_settings(kafka_security_protocol="SSL").faust_credentials())
    assert tls["security_protocol"] == "SSL"
    plain = _settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism="PLAIN",
                      kafka_sasl_username="u", kafka_sasl_password=SECRET)  # fmt: skip
    assert credentials_to_aiokafka_auth(plain.faust_credentials())["security_protocol"] == "SASL_PLAINTEXT"
    assert "ssl_cafile" not in plain.kafka_security()


def test_incomplete_configuration_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="ACDSCOPE_KAFKA_SASL_PASSWORD"):
        _settings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="u")
    with pytest.raises(ValidationError, match="go together"):
        _settings(kafka_ssl_certfile="/tmp/c.pem")


def test_the_password_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    settings = _settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u",
                         kafka_sasl_password=SECRET)  # fmt: skip
    logging.getLogger("acdscope.test").warning("settings: %s / %r", settings, settings)
    assert SECRET not in caplog.text
    assert SECRET not in settings.model_dump_json()
    # An error about another field does not echo the secret either.
    with pytest.raises(ValidationError) as refused:
        _settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u",
                  kafka_sasl_password=SECRET, kafka_ssl_keyfile="/tmp/k.pem")  # fmt: skip
    assert SECRET not in str(refused.value)
