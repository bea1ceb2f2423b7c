"""The local chDB endpoint through clickhouse-connect itself: what production code does, it must do here.

Starts its own server on its own port and a temporary data directory; never touches the shared one.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import clickhouse_connect
import pytest
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from infra.chdb_server import ChdbServer

pytestmark = pytest.mark.integration

PORT = 18223
ROWS = 100_000
BASE = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
QUEUES = ("billing", "claims", "sales", "support", "überlauf")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbServer]:
    root = tmp_path_factory.mktemp("chdb-endpoint")
    endpoint = ChdbServer(root=root, data_dir=root / "data", port=PORT)
    endpoint.start()
    try:
        endpoint.wait_ready()
        yield endpoint
    finally:
        endpoint.stop()
    assert not endpoint.is_running()


def _client(server: ChdbServer, database: str = "default", **kwargs: object) -> Client:
    return clickhouse_connect.get_client(host=server.host, port=server.port, database=database, **kwargs)


@pytest.fixture
def database(server: ChdbServer) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = _client(server)
    admin.command(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        admin.command(f"DROP DATABASE IF EXISTS {name} SYNC")
        admin.close()


def _calls_table(client: Client) -> None:
    client.command(
        """
        CREATE TABLE calls (
            id UInt64,
            agent String,
            handle_seconds Nullable(Float64),
            offered_at DateTime64(3, 'UTC'),
            queue LowCardinality(String)
        ) ENGINE = MergeTree ORDER BY id
        """
    )


def _calls_rows(first: int, count: int) -> list[list[object]]:
    return [
        [
            i,
            f"agent-{i % 97}",
            None if i % 7 == 0 else i * 0.5,  # halves: every partial sum is exact in binary
            BASE + timedelta(milliseconds=i),
            QUEUES[i % len(QUEUES)],
        ]
        for i in range(first, first + count)
    ]


def test_ping_and_connect_report_engine_and_utc(server: ChdbServer) -> None:
    with urllib.request.urlopen(f"{server.url}/ping", timeout=5) as response:
        assert response.read() == b"Ok.\n"
    client = _client(server)
    assert client.ping()
    assert client.command("SELECT 1") == 1
    assert client.server_version is not None
    assert client.server_version.split(".")[0].isdigit()
    assert str(client.server_tz) == "UTC"  # start() runs the server with TZ=UTC unless TZ is set
    assert client.command("SELECT version(), timezone()") == [client.server_version, "UTC"]


@pytest.mark.parametrize("compress", [False, True, "lz4", "zstd", "gzip"])
def test_insert_100k_rows_reads_back_exact_aggregates(
    server: ChdbServer, database: str, compress: bool | str
) -> None:
    client = _client(server, database, compress=compress)
    _calls_table(client)
    rows = _calls_rows(0, ROWS)

    started = time.perf_counter()
    summary = client.insert("calls", rows)
    elapsed = time.perf_counter() - started
    print(f"compress={compress!r}: {ROWS} rows in {elapsed:.2f} s = {ROWS / elapsed:,.0f} rows/s")

    assert summary.written_rows == ROWS
    nulls = sum(1 for i in range(ROWS) if i % 7 == 0)
    result = client.query(
        """
        SELECT count(), sum(id), sum(length(agent)), countIf(handle_seconds IS NULL), sum(handle_seconds),
               min(offered_at), max(offered_at), sum(toUnixTimestamp64Milli(offered_at)), uniqExact(queue)
        FROM calls
        """
    )
    count, ids, agent_chars, null_count, handle, first, last, millis, queues = result.result_rows[0]
    assert count == ROWS
    assert ids == ROWS * (ROWS - 1) // 2
    assert agent_chars == sum(len(f"agent-{i % 97}") for i in range(ROWS))
    assert null_count == nulls
    assert handle == sum(i * 0.5 for i in range(ROWS) if i % 7)
    assert first == BASE.replace(tzinfo=None)
    assert last == (BASE + timedelta(milliseconds=ROWS - 1)).replace(tzinfo=None)
    assert millis == ROWS * int(BASE.timestamp() * 1000) + ROWS * (ROWS - 1) // 2
    assert queues == len(QUEUES)
    per_queue = dict(client.query("SELECT queue, count() FROM calls GROUP BY queue").result_rows)
    assert per_queue == {q: sum(1 for i in range(ROWS) if QUEUES[i % len(QUEUES)] == q) for q in QUEUES}


@pytest.mark.parametrize("columns", [9, 10, 13, 32])
def test_native_data_starting_with_a_whitespace_byte_is_not_trimmed(
    server: ChdbServer, database: str, columns: int
) -> None:
    # Native data opens with its column count: 9, 10, 13, 32 are tab, newline, CR, space.
    client = _client(server, database, compress=False)
    names = [f"c{i}" for i in range(columns)]
    client.command(
        f"CREATE TABLE wide ({', '.join(f'{n} UInt32' for n in names)}) ENGINE = MergeTree ORDER BY c0"
    )
    client.insert("wide", [[row * 100 + i for i in range(columns)] for row in range(3)], column_names=names)
    total = sum(row * 100 + i for row in range(3) for i in range(columns))
    assert client.command(f"SELECT {' + '.join(f'sum({n})' for n in names)} FROM wide") == total


def test_datetime64_utc_comes_back_naive_by_default_and_aware_on_request(
    server: ChdbServer, database: str
) -> None:
    value = datetime(2026, 3, 29, 1, 30, 15, 123000, tzinfo=UTC)
    client = _client(server, database)
    client.command("CREATE TABLE t (at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY at")
    client.insert("t", [[value]])

    # clickhouse-connect's default tz_mode "naive_utc": the UTC wall time, without tzinfo.
    naive = client.query("SELECT at FROM t").result_rows[0][0]
    assert naive == value.replace(tzinfo=None)
    assert naive.tzinfo is None
    aware = _client(server, database, tz_mode="aware").query("SELECT at FROM t").result_rows[0][0]
    assert aware == value
    assert aware.utcoffset() == timedelta(0)


def test_replacing_merge_tree_final_keeps_the_latest_version(server: ChdbServer, database: str) -> None:
    client = _client(server, database)
    client.command(
        "CREATE TABLE agent_state (agent String, version UInt64, state String) "
        "ENGINE = ReplacingMergeTree(version) ORDER BY agent"
    )
    client.insert("agent_state", [["a1", 1, "ready"], ["a2", 1, "ready"]])
    client.insert("agent_state", [["a1", 2, "on_call"]])
    rows = client.query("SELECT agent, state FROM agent_state FINAL ORDER BY agent").result_rows
    assert rows == [("a1", "on_call"), ("a2", "ready")]


def test_query_parameters_are_bound_by_the_engine_not_spliced(server: ChdbServer, database: str) -> None:
    client = _client(server, database)
    client.command("CREATE TABLE notes (id UInt32, text String) ENGINE = MergeTree ORDER BY id")
    tricky = 'O\'Brien said "hi"; DROP TABLE notes; -- \\ tab\there\nnewline'
    client.command(
        "INSERT INTO notes VALUES ({id:UInt32}, {text:String})", parameters={"id": 1, "text": tricky}
    )
    assert client.query("SELECT {s:String}", parameters={"s": tricky}).result_rows == [(tricky,)]
    assert client.query(
        "SELECT text FROM {table:Identifier} WHERE text = {s:String}",
        parameters={"table": "notes", "s": tricky},
    ).result_rows == [(tricky,)]
    # A long value moves the query and parameters into a multipart form body.
    long = "x'" * 20_000
    assert client.query("SELECT length({s:String})", parameters={"s": long}).result_rows == [(len(long),)]


def test_bad_sql_raises_database_error_with_clickhouse_code(server: ChdbServer, database: str) -> None:
    client = _client(server, database)
    with pytest.raises(DatabaseError, match=r"Code: 62\. DB::Exception: Syntax error") as syntax:
        client.query("SELEC 1")
    assert syntax.value.code == 62
    with pytest.raises(DatabaseError, match=r"Code: 60\..*\(UNKNOWN_TABLE\)"):
        client.command("SELECT * FROM no_such_table")
    with pytest.raises(DatabaseError, match=r"Code: 81\."):
        _client(server, "no_such_database").command("SELECT 1")
    assert client.command("SELECT 2") == 2  # the shared session is still usable


def test_rejected_insert_writes_nothing_and_leaves_the_server_usable(
    server: ChdbServer, database: str
) -> None:
    client = _client(server, database)
    client.command("CREATE TABLE t (a UInt64, b String) ENGINE = MergeTree ORDER BY a")
    with pytest.raises(DatabaseError, match=r"Code: 27\."):
        client.raw_insert("t", ["a", "b"], b"1,one\nnot-a-number,two\n", fmt="CSV")
    assert client.command("SELECT count() FROM t") == 0
    client.raw_insert("t", ["a", "b"], b"1,one\n2,two\n", fmt="CSV")
    assert client.query("SELECT a, b FROM t ORDER BY a").result_rows == [(1, "one"), (2, "two")]


def test_per_query_settings_do_not_leak_into_later_queries(server: ChdbServer) -> None:
    client = _client(server)
    default = client.command("SELECT getSetting('max_threads')")
    assert client.command("SELECT getSetting('max_threads')", settings={"max_threads": 1}) == 1
    assert client.command("SELECT getSetting('max_threads')") == default
    client.command("USE system")
    assert client.command("SELECT currentDatabase()") == "default"


def test_text_formats_pass_through(server: ChdbServer) -> None:
    client = _client(server, compress=False)
    sql = "SELECT number AS n, toString(number * 2) AS s FROM numbers(3)"
    assert client.raw_query(sql, fmt="TabSeparated") == b"0\t0\n1\t2\n2\t4\n"
    assert client.raw_query(sql, fmt="CSV") == b'0,"0"\n1,"2"\n2,"4"\n'
    lines = client.raw_query(sql, fmt="JSONEachRow").splitlines()
    assert [json.loads(line)["s"] for line in lines] == ["0", "2", "4"]
    assert json.loads(client.raw_query(sql, fmt="JSON"))["rows"] == 3


def test_arrow_round_trip(server: ChdbServer, database: str) -> None:
    pytest.importorskip("pyarrow")
    client = _client(server, database)
    client.command("CREATE TABLE t (id UInt64, name String) ENGINE = MergeTree ORDER BY id")
    table = client.query_arrow(
        "SELECT number AS id, concat('n', toString(number)) AS name FROM numbers(1000)"
    )
    assert table.num_rows == 1000
    client.insert_arrow("t", table)
    assert client.query("SELECT count(), sum(id) FROM t").result_rows == [(1000, 499500)]


def test_two_clients_inserting_concurrently_do_not_mix_rows(server: ChdbServer, database: str) -> None:
    _calls_table(_client(server, database))
    batches, batch_rows = 20, 2_000
    errors: list[BaseException] = []

    def writer(first: int, compress: str) -> None:
        try:
            client = _client(server, database, compress=compress)
            for b in range(batches):
                client.insert("calls", _calls_rows(first + b * batch_rows, batch_rows))
        except BaseException as ex:
            errors.append(ex)

    threads = [
        threading.Thread(target=writer, args=(0, "lz4")),
        threading.Thread(target=writer, args=(1_000_000, "zstd")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors
    total = batches * batch_rows
    rows = _client(server, database).query(
        "SELECT id >= 1000000 AS second, count(), sum(id), uniqExact(id) FROM calls GROUP BY second ORDER BY second"
    )
    assert rows.result_rows == [
        (False, total, total * (total - 1) // 2, total),
        (True, total, total * 1_000_000 + total * (total - 1) // 2, total),
    ]


def test_data_survives_a_restart_and_start_is_idempotent(server: ChdbServer, database: str) -> None:
    pid = server.start()
    assert server.start() == pid
    client = _client(server, database)
    _calls_table(client)
    client.insert("calls", _calls_rows(0, 1_000))

    server.stop()
    assert not server.is_running()
    assert "stopped" in server.log_file.read_text()  # SIGTERM shut chDB down cleanly
    assert server.start() != pid
    server.wait_ready()

    client = _client(server, database)
    assert client.query("SELECT count(), sum(id) FROM calls").result_rows == [(1_000, 499_500)]


def test_second_server_on_the_same_data_dir_fails_with_the_log_tail(
    server: ChdbServer, tmp_path: Path
) -> None:
    rival = ChdbServer(root=tmp_path, data_dir=server.data_dir, port=PORT + 1)
    rival.start()
    try:
        with pytest.raises(RuntimeError, match=r"(?s)not running.*last lines of"):
            rival.wait_ready(timeout=60)
    finally:
        rival.stop()
    assert server.is_running()


def test_start_refuses_a_port_already_in_use(server: ChdbServer, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="already in use"):
        ChdbServer(root=tmp_path, data_dir=tmp_path / "data", port=server.port).start()
