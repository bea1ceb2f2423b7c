"""Numbered migrations: applied in order, recorded, safe to re-run; a failure names file and statement."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.warehouse.migrations import MigrationError
from streams.warehouse.migrations import discover
from streams.warehouse.migrations import migrate

pytestmark = pytest.mark.integration


def test_all_migrations_apply_once_and_rerun_is_a_no_op(clickhouse_db):
    _, client = clickhouse_db
    first = migrate(client)
    assert [m.version for m in first] == [m.version for m in discover()]
    assert migrate(client) == []
    recorded = client.query("select version from schema_migrations final order by version").result_rows
    assert [row[0] for row in recorded] == [m.version for m in discover()]


def test_failed_migration_is_not_recorded_and_names_file_and_statement(clickhouse_db, tmp_path: Path):
    _, client = clickhouse_db
    (tmp_path / "0001_ok.sql").write_text("create table a (x UInt8) engine = Memory;\n")
    (tmp_path / "0002_broken.sql").write_text(
        "-- first statement is fine\ncreate table b (x UInt8) engine = Memory;\nselect * from no_such_table;\n"
    )
    with pytest.raises(MigrationError, match=r"0002_broken\.sql, statement 2") as info:
        migrate(client, tmp_path)
    assert "no_such_table" in str(info.value)
    recorded = [row[0] for row in client.query("select version from schema_migrations final").result_rows]
    assert recorded == [1]


def test_edited_migration_is_refused(clickhouse_db, tmp_path: Path):
    _, client = clickhouse_db
    path = tmp_path / "0001_t.sql"
    path.write_text("create table t (x UInt8) engine = Memory;\n")
    migrate(client, tmp_path)
    path.write_text("create table t (x UInt16) engine = Memory;\n")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(client, tmp_path)


def test_badly_named_file_is_an_error(tmp_path: Path):
    (tmp_path / "1_oops.sql").write_text("select 1;\n")
    with pytest.raises(MigrationError, match="NNNN_lower_snake"):
        discover(tmp_path)


def test_the_metric_layer_is_applied_after_the_migrations_every_time_and_only_replaces(
    clickhouse_db, tmp_path
):
    _, client = clickhouse_db
    (tmp_path / "migrations").mkdir()
    (tmp_path / "metrics").mkdir()
    (tmp_path / "migrations" / "0001_t.sql").write_text("create table t (x UInt8) engine = Memory;\n")
    view = tmp_path / "metrics" / "1_views.sql"
    view.write_text("create or replace view v as select x from t;\n")
    assert [m.version for m in migrate(client, tmp_path / "migrations")] == [1]
    client.command("insert into t values (7)")
    view.write_text("create or replace view v as select x * 2 as x from t;\n")  # edited in place
    assert migrate(client, tmp_path / "migrations") == []  # no migration, but the layer is re-applied
    assert client.query("select x from v").result_rows == [(14,)]
    view.write_text("create table w (x UInt8) engine = Memory;\n")
    with pytest.raises(MigrationError, match="only creates or replaces"):
        migrate(client, tmp_path / "migrations")


def test_a_retired_migration_number_is_refused(tmp_path: Path):
    (tmp_path / "0012_new_thing.sql").write_text("select 1;\n")
    with pytest.raises(MigrationError, match="0012_metric_formulas; take a new number"):
        discover(tmp_path)
