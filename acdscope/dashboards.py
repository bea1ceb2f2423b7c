"""Run the parameterised SQL in `sql/dashboards/` through `clickhouse-connect`.

The SQL files are the one definition of each figure; this module only loads, validates names and runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clickhouse_connect.driver.client import Client

DASHBOARD_DIR = Path(__file__).resolve().parents[1] / "sql" / "dashboards"


class UnknownDashboard(KeyError):
    pass


@dataclass(frozen=True)
class DashboardResult:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def available() -> list[str]:
    return sorted(path.stem for path in DASHBOARD_DIR.glob("*.sql"))


def load(name: str) -> str:
    path = DASHBOARD_DIR / f"{name}.sql"
    if not path.is_file():
        raise UnknownDashboard(f"unknown dashboard {name!r}; valid: {', '.join(available())}")
    return path.read_text(encoding="utf-8")


def run(client: Client, name: str, parameters: dict[str, Any]) -> DashboardResult:
    result = client.query(load(name), parameters=parameters)
    return DashboardResult(tuple(result.column_names), [tuple(row) for row in result.result_rows])
