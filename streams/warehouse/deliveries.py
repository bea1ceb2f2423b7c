"""The record of alert webhook deliveries in `alert_deliveries`: which idempotency keys were delivered, and each
delivery's outcome.

Only storage, and blocking (the deliverer calls it from a thread); what to POST, when to retry and when an offset
may be committed are decided in `streams.edge.webhook`.
"""

from __future__ import annotations

from collections.abc import Callable

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import OperationalError

from streams.warehouse.tables import ALERT_DELIVERIES
from streams.warehouse.tables import DeliveryRow


class ClickHouseDeliveryStore:
    """`transient`: the errors of an unreachable server, which the deliverer waits out with backoff.

    The client is built on first use, in the caller's thread: building one queries the server, so a
    deliverer started while ClickHouse is down waits for it instead of exiting."""

    transient: tuple[type[Exception], ...] = (OperationalError,)

    def __init__(self, connect: Callable[[], Client]) -> None:
        self._connect = connect
        self._client: Client | None = None

    def client(self) -> Client:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def delivered_keys(self) -> set[str]:
        # `final`: each key's latest outcome, so a failed transition delivered later counts as delivered.
        result = self.client().query(
            f"select idempotency_key from {ALERT_DELIVERIES.table} final where status = 'delivered'"
        )
        return {str(row[0]) for row in result.result_rows}

    def record(self, row: DeliveryRow) -> None:
        self.client().insert(ALERT_DELIVERIES.table, [list(row)], column_names=list(ALERT_DELIVERIES.columns))
