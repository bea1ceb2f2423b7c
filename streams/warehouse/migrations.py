"""Apply the numbered `sql/migrations/NNNN_name.sql` files in order and record each in `schema_migrations`,
then the metric layer (`sql/metrics/*.sql`) whole.

Tables hold data, so their DDL is a numbered, checksummed history that is never edited. The metric layer
(functions and views) holds none: it is one editable definition of every figure, re-applied on every run with
`create or replace`, so a changed formula is an edit of its one line, not a copy of the view in a new migration.
DDL lives only in `sql/`; this module loads it and never writes DDL of its own beyond the record table.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from clickhouse_connect.driver.client import Client

from streams.warehouse.tables import SCHEMA_MIGRATIONS

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
METRICS_DIR = SQL_DIR / "metrics"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Numbers once used by migrations that became the metric layer: servers have them recorded as applied, so a new
# file with one of them would be skipped there. Never reuse them.
RETIRED = {12: "0012_metric_formulas", 13: "0013_metric_views"}
# What the metric layer may do: re-running it must be harmless.
_IDEMPOTENT = re.compile(r"^(create or replace (function|view)|drop (view|function) if exists)\b", re.I)

_RECORD_TABLE = """
create table if not exists schema_migrations
(
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime64(3, 'UTC') default now64(3)
)
engine = ReplacingMergeTree
order by version
"""


class MigrationError(RuntimeError):
    """Names the file and the statement that failed, so an operator can fix exactly that."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]

    def statements(self) -> list[str]:
        """Split on `;` at the end of a line; comments are dropped so a statement is never only a comment."""
        lines = [line for line in self.sql.splitlines() if not line.lstrip().startswith("--")]
        return [stmt.strip() for stmt in re.split(r";\s*$", "\n".join(lines), flags=re.M) if stmt.strip()]


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Files sorted by number; a duplicate number or a badly named file is an error, not a silent skip."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lower_snake.sql")
        version = int(match.group(1))
        if version in RETIRED:
            raise MigrationError(f"{path.name}: version {version} was {RETIRED[version]}; take a new number")
        if version in found:
            raise MigrationError(f"{path.name}: version {version} already used by {found[version].path.name}")
        found[version] = Migration(version, path.stem, path)
    return [found[v] for v in sorted(found)]


def applied_versions(client: Client) -> dict[int, str]:
    client.command(_RECORD_TABLE)
    result = client.query("select version, checksum from schema_migrations final")
    return {int(version): str(checksum) for version, checksum in result.result_rows}


def metric_layer(directory: Path = METRICS_DIR) -> list[Migration]:
    """The layer's files in name order (functions before the views that use them); version 0, never recorded."""
    return [Migration(0, path.stem, path) for path in sorted(directory.glob("*.sql"))]


def _run(client: Client, migration: Migration) -> None:
    for number, statement in enumerate(migration.statements(), start=1):
        try:
            client.command(statement)
        except Exception as exc:
            raise MigrationError(
                f"{migration.path.name}, statement {number}: {exc}\n--- statement ---\n{statement}"
            ) from exc


def migrate(client: Client, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply what is missing, in order, then the metric layer (the `metrics` directory beside `directory`);
    safe to re-run. A migration is recorded only after all its statements ran; returns the migrations applied
    (the layer, applied every time, is not listed)."""
    done = applied_versions(client)
    applied: list[Migration] = []
    for migration in discover(directory):
        if migration.version in done:
            if done[migration.version] != migration.checksum:
                raise MigrationError(
                    f"{migration.path.name} changed after it was applied; add a new migration instead"
                )
            continue
        _run(client, migration)
        client.insert(
            SCHEMA_MIGRATIONS.table,
            [[migration.version, migration.name, migration.checksum]],
            column_names=list(SCHEMA_MIGRATIONS.columns),
        )
        applied.append(migration)
    for layer in metric_layer(directory.parent / METRICS_DIR.name):
        for statement in layer.statements():
            if not _IDEMPOTENT.match(statement):
                raise MigrationError(
                    f"{layer.path.name}: the metric layer only creates or replaces: {statement[:80]}"
                )
        _run(client, layer)
    return applied
