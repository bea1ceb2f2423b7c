"""Run the parameterised SQL in `sql/dashboards/` through `clickhouse-connect`.

The SQL files are the one definition of each figure; this module only loads, validates names and runs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
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


@dataclass(frozen=True)
class Empty:
    """Why a dashboard has no rows. `missing`: what it reads is not there (no events, no terms, nothing in the
    window), so a caller fails rather than show an empty table; otherwise nothing matched and that is the answer."""

    reason: str
    missing: bool


def why_empty(client: Client, parameters: dict[str, Any]) -> Empty:
    """Explain an empty result from the warehouse itself: the tenant's events, its sources' terms, its window."""
    tenant = str(parameters.get("tenant") or "")
    who = f"tenant {tenant!r}" if tenant else "any tenant"
    scope = "tenant = {tenant:String}" if tenant else "1"
    bind: dict[str, Any] = {"tenant": tenant}
    # The engine's rows of calls (quality) and agents (adherence): where every dashboard's figures start.
    span = client.query(
        f"select min(interval_start), max(interval_start), count() from ("
        f" select interval_start from quality_interval where {scope}"
        f" union all select interval_start from adherence_interval where {scope})",
        parameters=bind,
    ).result_rows[0]
    if span[2] == 0:
        return Empty(f"no events yet for {who}", missing=True)
    sources = [row[0] for row in client.query(
        f"select distinct source from quality_interval where {scope} order by source", parameters=bind
    ).result_rows]  # fmt: skip
    with_terms = {row[0] for row in client.query(
        f"select distinct source from source_terms final where {scope}", parameters=bind
    ).result_rows}  # fmt: skip
    without = [source for source in sources if source not in with_terms]
    if without and len(without) == len(sources):
        return Empty(
            f"no contract terms loaded for {', '.join(without)} ({who}): run `acdscope terms`", missing=True
        )
    if "from" in parameters and "until" in parameters:
        start, end = (_moment(parameters[key]) for key in ("from", "until"))
        inside = client.query(
            f"select count() from quality_interval where {scope}"
            " and interval_start >= {from:DateTime64(3, 'UTC')} and interval_start < {until:DateTime64(3, 'UTC')}",
            parameters={**bind, "from": start, "until": end},
        ).result_rows[0][0]
        if inside == 0:
            return Empty(
                f"no intervals of {who} from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC; its data spans "
                f"{span[0]:%Y-%m-%d %H:%M} to {span[1]:%Y-%m-%d %H:%M} UTC",
                missing=True,
            )
    note = f" (no contract terms loaded for {', '.join(without)})" if without else ""
    return Empty(
        f"no row matches: {who} has events and terms in that window, and none qualifies{note}", False
    )


def _moment(value: Any) -> datetime:
    """A window bound as a UTC moment: a dashboard over local days takes dates, read here as UTC midnight."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
