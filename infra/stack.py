"""Start or stop the whole local stack (Kafka broker + ClickHouse endpoint) for tests and the streaming demo.

Only process management; the servers themselves are in `infra.kafka_local` and `infra.chdb_server`.
"""

from __future__ import annotations

import argparse
import sys
import time

from infra.chdb_server import ChdbServer
from infra.kafka_local import KafkaLocal


def start() -> None:
    kafka, clickhouse = KafkaLocal.from_env(), ChdbServer.from_env()
    began = time.monotonic()
    kafka.ensure_jars()
    kafka.start()
    clickhouse.start()
    kafka.wait_ready()
    clickhouse.wait_ready()
    print(
        f"stack: Kafka {kafka.bootstrap} and ClickHouse endpoint http://{clickhouse.host}:{clickhouse.port} "
        f"ready in {time.monotonic() - began:.1f} s",
        flush=True,
    )


def stop() -> None:
    ChdbServer.from_env().stop()
    KafkaLocal.from_env().stop()
    print("stack: stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.stack", description=__doc__)
    parser.add_argument("action", choices=["start", "stop", "restart"])
    args = parser.parse_args(argv)
    if args.action in ("stop", "restart"):
        stop()
    if args.action in ("start", "restart"):
        start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
