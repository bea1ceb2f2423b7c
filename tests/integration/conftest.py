"""Session-scoped real servers: testcontainers where a Docker engine answers, the project's local servers otherwise.

One test suite, two ways to get the servers; a test that needs one and cannot get it fails with the reason.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from clickhouse_connect.driver.client import Client

from streams.warehouse.client import connect
from tests.support.faults import Rows
from tests.support.faults import reference_rows


@dataclass(frozen=True)
class Servers:
    kafka_bootstrap: str
    clickhouse_http: str  # http://user:password@host:port (no database)
    how: str


def _docker_engine_reachable() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def _docker_servers() -> Iterator[Servers]:
    from testcontainers.clickhouse import ClickHouseContainer
    from testcontainers.kafka import KafkaContainer

    with (
        KafkaContainer("apache/kafka:3.9.1").with_kraft() as kafka,
        ClickHouseContainer("clickhouse/clickhouse-server:25.8") as clickhouse,
    ):
        host = clickhouse.get_container_host_ip()
        port = clickhouse.get_exposed_port(8123)
        yield Servers(
            kafka.get_bootstrap_server(),
            f"http://{clickhouse.username}:{clickhouse.password}@{host}:{port}",
            "testcontainers",
        )


def _local_servers() -> Iterator[Servers]:
    from infra.chdb_server import ChdbServer
    from infra.kafka_local import KafkaLocal

    kafka, clickhouse = KafkaLocal.from_env(), ChdbServer.from_env()
    started_kafka, started_clickhouse = not kafka.is_running(), not clickhouse.is_running()
    kafka.ensure_jars()
    kafka.start()
    clickhouse.start()
    kafka.wait_ready()
    clickhouse.wait_ready()
    try:
        yield Servers(kafka.bootstrap, f"http://{clickhouse.host}:{clickhouse.port}", "local")
    finally:
        # Servers started by `make test` are left for it to stop; ones this fixture started, it stops.
        if started_clickhouse:
            clickhouse.stop()
        if started_kafka:
            kafka.stop()


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    mode = os.environ.get("ACDSCOPE_TEST_SERVERS", "auto")
    if mode == "docker" or (mode == "auto" and _docker_engine_reachable()):
        yield from _docker_servers()
    else:
        yield from _local_servers()


@pytest.fixture
def clickhouse_db(servers: Servers) -> Iterator[tuple[str, Client]]:
    """A fresh database per test, so tests never see each other's rows; dropped afterwards."""
    name = f"acd_test_{uuid.uuid4().hex[:12]}"
    admin = connect(servers.clickhouse_http + "/default")
    admin.command(f"create database {name}")
    dsn = f"{servers.clickhouse_http}/{name}"
    client = connect(dsn)
    try:
        yield dsn, client
    finally:
        client.close()
        admin.command(f"drop database if exists {name} sync")
        admin.close()


@pytest.fixture
def topic_suffix() -> str:
    """Fresh topic names per test: a broker shared by the session never leaks messages between tests."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def fault_reference(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Rows:
    """The no-fault run of the fault scenario, once per session: every fault test compares its rows with it."""
    began = time.monotonic()
    rows = reference_rows(
        servers.kafka_bootstrap,
        servers.clickhouse_http,
        uuid.uuid4().hex[:10],
        tmp_path_factory.mktemp("reference"),
    )
    print(f"reference run: {time.monotonic() - began:.1f} s; rows { ({t: len(r) for t, r in rows.items()}) }")
    return rows
