"""Run the parameterised SQL in `sql/dashboards/` through `clickhouse-connect`.

The SQL files are the one definition of each figure; this module only loads, validates names and runs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clickhouse_connect.driver.client import Client

DASHBOARD_DIR = Path(__file__).resolve().parents[1] / "sql" / "dashboards"


class UnknownDashboard(KeyError):
    pass


class BadParameters(ValueError):
    """Missing or unknown parameters; the message lists the dashboard's parameters with their types."""


_PLACEHOLDER = re.compile(r"\{(\w+):([^}]+)\}")


def parameters_of(name: str) -> dict[str, str]:
    """The dashboard's `{name:Type}` placeholders: what it needs and of which ClickHouse type."""
    return dict(_PLACEHOLDER.findall(load(name)))


def describe_parameters(name: str) -> str:
    """`from (DateTime64(3, 'UTC')), tenant (String)`: the dashboard's parameters for an error message."""
    return ", ".join(f"{key} ({kind})" for key, kind in sorted(parameters_of(name).items()))


# The bounds of a half-open time range. A dashboard over a period takes both; a live board (`rta_board`, as of
# now) takes neither, and callers that offer a window (`acdscope query --from/--until`) ask `window_of` which.
WINDOW = ("from", "until")


def window_of(name: str) -> tuple[str, ...]:
    """The window bounds the dashboard's SQL has placeholders for, in `WINDOW` order (none for a live board)."""
    wanted = parameters_of(name)
    return tuple(bound for bound in WINDOW if bound in wanted)


def check_parameters(name: str, parameters: dict[str, Any]) -> None:
    wanted = parameters_of(name)
    missing = sorted(set(wanted) - set(parameters))
    unknown = sorted(set(parameters) - set(wanted))
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown {', '.join(unknown)}")
        raise BadParameters(
            f"dashboard {name!r}: {'; '.join(problems)}; its parameters are: {describe_parameters(name)}"
        )


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
    check_parameters(name, parameters)
    result = client.query(load(name), parameters=parameters)
    return DashboardResult(tuple(result.column_names), [tuple(row) for row in result.result_rows])
