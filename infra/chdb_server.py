"""Local ClickHouse HTTP endpoint over chDB, so code written for clickhouse-connect runs unchanged here.

Dev/test stand-in, not for production: no sessions, one statement at a time; loopback by default. Two users,
as `docker-compose.yml` gives the real server: `default` (no password, every right) and the dashboards'
read-only `dashboards`.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import email.parser
import email.policy
import functools
import gzip
import hmac
import itertools
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from email.message import Message
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import IO
from typing import Any
from typing import Protocol
from typing import cast
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit

logger = logging.getLogger("acdscope.chdb_server")

_REPO = Path(__file__).resolve().parents[1]
_DEFAULT_PORT = 18123
# Sentinel: data_dir derives from root, which a dataclass default cannot express.
_DERIVED = Path("\0derived")

# The dashboards' read-only user (issue 8), as infra/clickhouse/users.d/dashboards.xml defines it for a
# real server. Its password comes from the environment; unset, a development credential for this loopback
# endpoint (like the local Kafka SASL one), also the settings' default: a fresh clone needs no configuration.
DASHBOARD_USER = "dashboards"
DASHBOARD_PASSWORD_ENV = "ACDSCOPE_CLICKHOUSE_DASHBOARD_PASSWORD"
LOCAL_DASHBOARD_PASSWORD = "acdscope-dashboards-local-dev"
# Its settings profile, which the engine enforces on the user's own chDB connection. readonly = 1 refuses
# a query's SETTINGS clause too unless it changes nothing, and the dashboards ask for join_use_nulls = 1:
# so that is the profile's default, here as on the server.
DASHBOARD_PROFILE = {"readonly": "1", "join_use_nulls": "1"}

# Parameters that steer the HTTP exchange rather than the query. chDB rejects most of them as
# unknown settings (`wait_end_of_query`, `client_protocol_version`), and the rest only describe
# progress headers, cancellation and compression, which this process emulates itself.
_TRANSPORT_PARAMS = frozenset(
    {
        "query",
        "database",
        "default_format",
        "query_id",
        # Every request runs on the one chDB session anyway. Honouring session_id would take a
        # session per client; clickhouse-connect sends one by default but relies on nothing
        # session-scoped, and SET/USE/temporary tables issued as statements are shared by all.
        "session_id",
        "session_timeout",
        "session_check",
        "compress",
        "decompress",
        "buffer_size",
        "wait_end_of_query",
        "http_wait_end_of_query",
        "client_protocol_version",
        "role",
        "quota_key",
        "user",
        "password",
        "enable_http_compression",
        "send_progress_in_http_headers",
        "http_headers_progress_interval_ms",
        "cancel_http_readonly_queries_on_client_close",
        "http_response_buffer_size",
        "add_http_cors_header",
        # A real server scopes `readonly` to one request; on the one shared chDB session a
        # `SET readonly = 1` could never be undone (`Cannot modify 'readonly' setting`).
        "readonly",
    }
)
_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Insert data follows its FORMAT clause; quoted literals are skipped so a `FORMAT` inside a
# string (say a SETTINGS value) cannot end the statement early.
_INSERT = re.compile(
    r"""\A\s*(?P<stmt>INSERT\s+INTO\s(?:[^'"`]|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`)*?)
        \s*\bFORMAT\s+(?P<fmt>\w+)[ \t]*(?:\r?\n)?""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_OUTPUT_FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*\Z", re.IGNORECASE)
_READS = re.compile(r"\A[\s(]*(SELECT|WITH|SHOW|DESC|DESCRIBE|EXISTS|EXPLAIN|CHECK)\b", re.IGNORECASE)
_CODE = re.compile(r"Code: (\d+)\.")
_HEAD_BYTES = 64 * 1024
_CHUNK = 1024 * 1024
_SPOOL_BYTES = 64 * 1024 * 1024
# Servers this process launched, by pid: dropping a Popen whose child still runs raises a
# ResourceWarning, and poll() is what reaps our own children once they exit.
_launched: dict[int, subprocess.Popen[bytes]] = {}


class _ClickHouseError(Exception):
    """An error phrased as ClickHouse's HTTP handler phrases it, because clickhouse-connect parses
    the `Code: N.` text and the exception-code header into its DatabaseError."""

    def __init__(self, code: int, text: str, status: int = 500) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.status = status  # the HTTP status; a real server sends 500 for most codes

    @classmethod
    def of(cls, code: int, name: str, message: str, version: str, status: int = 500) -> _ClickHouseError:
        return cls(code, f"Code: {code}. DB::Exception: {message}. ({name}) (version {version})", status)

    @classmethod
    def from_engine(cls, ex: BaseException, version: str, user: str = "default") -> _ClickHouseError:
        # chDB already phrases engine errors the ClickHouse way; its streaming inserter only
        # prefixes them ("Streaming insert finish failed: Code: 27. …").
        message = str(ex).strip()
        start = message.find("Code: ")
        match = _CODE.match(message, start) if start >= 0 else None
        if match is None:
            return cls.of(1001, "STD_EXCEPTION", message, version)
        # Every connection runs as chDB's own `default`: access errors name the user who asked instead,
        # as a server's do.
        text = message[start:].replace("DB::Exception: default: ", f"DB::Exception: {user}: ")
        if "(version " not in text:
            text = f"{text} (version {version})"
        return cls(int(match.group(1)), text)

    @classmethod
    def readonly(cls, user: str, version: str) -> _ClickHouseError:
        return cls.of(164, "READONLY", f"{user}: Cannot execute query in readonly mode", version)

    @classmethod
    def authentication(cls, message: str, version: str) -> _ClickHouseError:
        # 403, as ClickHouse's exceptionCodeToHTTPStatus maps AUTHENTICATION_FAILED.
        return cls.of(516, "AUTHENTICATION_FAILED", message, version, status=403)


@dataclass(frozen=True)
class _Outcome:
    body: bytes
    summary: dict[str, str]


class _Decompressor(Protocol):
    eof: bool
    unused_data: bytes

    def decompress(self, data: bytes) -> bytes: ...


def _decompressor_factory(encoding: str) -> Callable[[], _Decompressor] | None:
    """A fresh decompressor per frame, since a finished one accepts no further input."""
    if encoding in ("", "identity"):
        return None
    if encoding == "lz4":
        import lz4.frame

        return lambda: cast(_Decompressor, lz4.frame.LZ4FrameDecompressor())
    if encoding == "zstd":
        import zstandard

        return lambda: cast(_Decompressor, zstandard.ZstdDecompressor().decompressobj())
    if encoding == "gzip":
        return lambda: cast(_Decompressor, zlib.decompressobj(wbits=31))
    if encoding == "deflate":
        return lambda: cast(_Decompressor, zlib.decompressobj(wbits=15))
    raise LookupError(f"Unknown Content-Encoding '{encoding}'")


class _BodyDecoder:
    """Undo the request's Content-Encoding chunk by chunk. clickhouse-connect compresses every
    insert block as its own lz4/zstd frame, so a body is a run of frames, not one."""

    def __init__(self, encoding: str) -> None:
        self._factory = _decompressor_factory(encoding.strip().lower())
        self._current: _Decompressor | None = None

    def feed(self, data: bytes) -> bytes:
        if self._factory is None:
            return data
        out = bytearray()
        while data:
            if self._current is None:
                self._current = self._factory()
            out += self._current.decompress(data)
            if not self._current.eof:
                break
            data = self._current.unused_data
            self._current = None
        return bytes(out)

    def finish(self) -> None:
        if self._current is not None:
            raise EOFError("compressed request body is truncated")


def _compress(body: bytes, encoding: str) -> bytes:
    if encoding == "lz4":
        import lz4.frame

        return cast(bytes, lz4.frame.compress(body))
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(body)
    if encoding == "gzip":
        return gzip.compress(body, compresslevel=3)
    return zlib.compress(body, 3)


def _pick_encoding(accept: str | None) -> str | None:
    """Honour the client's own order of preference (clickhouse-connect lists lz4 first)."""
    for item in (accept or "").split(","):
        name = item.split(";", 1)[0].strip().lower()
        if name in ("lz4", "zstd", "gzip", "deflate"):
            return name
    return None


def _content_type(fmt: str) -> str:
    name = fmt.lower()
    if name.startswith(("json", "ndjson")):
        return "application/json; charset=UTF-8"
    if name.startswith(("tabseparated", "tsv")):
        return "text/tab-separated-values; charset=UTF-8"
    if name.startswith("csv"):
        return "text/csv; charset=UTF-8"
    if name.startswith(("native", "rowbinary", "arrow", "parquet", "orc", "avro")):
        return "application/octet-stream"
    return "text/plain; charset=UTF-8"


def _quote_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _quote_identifier(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


@dataclass(frozen=True)
class User:
    name: str
    password: str = field(repr=False)
    readonly: bool = False


def local_users(dashboard_password: str) -> dict[str, User]:
    """`default` without a password and with every right, as on a stock server; the dashboards' read-only
    user."""
    return {
        "default": User("default", ""),
        DASHBOARD_USER: User(DASHBOARD_USER, dashboard_password, readonly=True),
    }


def dashboard_password() -> str:
    return os.environ.get(DASHBOARD_PASSWORD_ENV) or LOCAL_DASHBOARD_PASSWORD


class _Connection:
    """One chDB connection and the HTTP settings set on it on behalf of the request it last ran: those live
    for one request, a chDB connection keeps every SET, so the next request puts them back to DEFAULT."""

    def __init__(self, session: Any, readonly: bool) -> None:
        self.session = session
        self.readonly = readonly
        self.applied: dict[str, str] = {}


class _Engine:
    """The chDB engine of this process: a connection for full users and one for read-only users, behind a
    lock because a streaming insert blocks every other statement until it finishes."""

    def __init__(self, path: Path) -> None:
        from chdb import session as chdb_session

        self._lock = threading.Lock()
        self._closed = False
        self._writer = _Connection(chdb_session.Session(str(path)), readonly=False)
        row = self._writer.session.query("SELECT version(), timezone()", "TabSeparated").bytes()
        self.version, self.timezone = row.decode().strip().split("\t")
        # Connections to one path share its engine and data but keep their own settings: this one starts
        # with the read-only profile, so the engine itself refuses writes, DDL and setting changes on it.
        reader = chdb_session.Session(f"{path}?{urlencode(DASHBOARD_PROFILE)}")
        self._reader = _Connection(reader, readonly=True)
        self._check_reader_profile()

    def _check_reader_profile(self) -> None:
        # chDB silently ignores connection-string parameters it does not act on (`user=` changes nothing),
        # and all that read-only users may not do rests on this profile: check it took.
        names = ", ".join(_quote_string(name) for name in DASHBOARD_PROFILE)
        out = self._reader.session.query(
            f"SELECT name, value FROM system.settings WHERE name IN ({names})", "TabSeparated"
        )
        applied = dict(line.split("\t", 1) for line in out.bytes().decode().splitlines())
        if applied != DASHBOARD_PROFILE:
            raise RuntimeError(f"chDB did not apply the read-only profile {DASHBOARD_PROFILE}: {applied}")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._reader.session.close()
                self._writer.session.close()

    def _prepare(self, user: User, settings: dict[str, str], database: str) -> Any:
        if self._closed:
            raise _ClickHouseError.of(210, "NETWORK_ERROR", "Server is shutting down", self.version)
        connection = self._reader if user.readonly else self._writer
        session = connection.session
        for name in [name for name in connection.applied if name not in settings]:
            session.query(f"SET {name} = DEFAULT")
            del connection.applied[name]
        for name, value in settings.items():
            if connection.applied.get(name) == value:
                continue
            if not _SETTING_NAME.match(name):
                raise _ClickHouseError.of(115, "UNKNOWN_SETTING", f"Unknown setting '{name}'", self.version)
            # On the read-only connection the engine refuses any SET that changes something (as a server
            # refuses such a request's settings), so one that passes leaves nothing to undo.
            session.query(f"SET {name} = {_quote_string(value)}")
            if not connection.readonly:
                connection.applied[name] = value
        # Every request names its database: a USE inside an earlier request must not leak.
        session.query(f"USE {_quote_identifier(database)}")
        return session

    def query(
        self,
        sql: str | bytes,
        fmt: str,
        binds: dict[str, str],
        settings: dict[str, str],
        database: str,
        user: User,
    ) -> _Outcome:
        with self._lock:
            try:
                result = self._prepare(user, settings, database).query(sql, fmt, params=binds or None)
            except _ClickHouseError:
                raise
            except Exception as ex:
                raise _ClickHouseError.from_engine(ex, self.version, user.name) from None
        return _Outcome(
            result.bytes(),
            _summary(
                read=(result.storage_rows_read(), result.storage_bytes_read()),
                written=(result.rows_written(), result.bytes_written()),
                result=(result.rows_read(), result.bytes_read()),
                elapsed=result.elapsed(),
            ),
        )

    def insert(
        self,
        statement: str,
        fmt: str,
        data: Iterable[bytes],
        settings: dict[str, str],
        database: str,
        user: User,
    ) -> _Outcome:
        with self._lock:
            try:
                with self._prepare(user, settings, database).send_insert(statement, fmt) as inserter:
                    for chunk in data:
                        if chunk:
                            inserter.append(chunk)
                    result = inserter.finish()
            except _ClickHouseError:
                raise
            except Exception as ex:
                raise _ClickHouseError.from_engine(ex, self.version, user.name) from None
        rows, size = result.rows_written, result.bytes_written
        return _Outcome(
            b"",
            _summary(read=(rows, size), written=(rows, size), result=(rows, size), elapsed=result.elapsed),
        )


def _summary(
    *, read: tuple[int, int], written: tuple[int, int], result: tuple[int, int], elapsed: float
) -> dict[str, str]:
    # ClickHouse sends every summary value as a string.
    return {
        "read_rows": str(read[0]),
        "read_bytes": str(read[1]),
        "written_rows": str(written[0]),
        "written_bytes": str(written[1]),
        "total_rows_to_read": str(read[0]),
        "result_rows": str(result[0]),
        "result_bytes": str(result[1]),
        "elapsed_ns": str(int(elapsed * 1e9)),
    }


@dataclass(frozen=True)
class _Reply:
    outcome: _Outcome
    fmt: str | None  # output format, or None when the statement produces no result set
    timezone: str


def _execute(engine: _Engine, params: dict[str, str], body: IO[bytes], user: User) -> _Reply:
    """Run one request the way ClickHouse's HTTP handler reads it: the `query` parameter, a
    newline, then the body; an INSERT's data starts right after its FORMAT clause."""
    settings: dict[str, str] = {}
    binds: dict[str, str] = {}
    for name, value in params.items():
        if name.startswith("param_"):
            binds[name.removeprefix("param_")] = value
        elif name not in _TRANSPORT_PARAMS:
            settings[name] = value
    if params.get("decompress") not in (None, "", "0"):
        raise _ClickHouseError.of(
            48, "NOT_IMPLEMENTED", "decompress=1 (ClickHouse block compression)", engine.version
        )
    database = params.get("database") or "default"
    url_query = params.get("query", "")
    head = (url_query.encode() + b"\n" if url_query else b"") + body.read(_HEAD_BYTES)
    timezone = settings.get("session_timezone") or engine.timezone

    insert = _INSERT.match(head.decode("latin-1"))
    if insert is not None:
        if user.readonly:
            raise _ClickHouseError.readonly(user.name, engine.version)
        statement = head[: insert.end("stmt")].decode("utf-8", "replace")
        rest = head[insert.end() :]
        data = _chain([rest], iter(lambda: body.read(_CHUNK), b""))
        outcome = engine.insert(statement, insert["fmt"], data, settings, database, user)
        return _Reply(outcome, None, timezone)

    raw = (head + body.read()).strip()
    if not raw:
        raise _ClickHouseError.of(62, "SYNTAX_ERROR", "Empty query", engine.version)
    sql: str | bytes
    try:
        sql = raw.decode("utf-8")
    except UnicodeDecodeError:
        sql = raw  # binary binds embed raw bytes in string literals; chDB takes bytes too
    text = sql if isinstance(sql, str) else raw.decode("latin-1")
    # Defence in depth: the read-only connection's profile refuses writes already; this also stops what
    # readonly = 1 lets through on chDB (INTO OUTFILE writes a file on this host) and a second statement.
    if user.readonly and not is_read_statement(text):
        raise _ClickHouseError.readonly(user.name, engine.version)
    default_format = params.get("default_format") or "TabSeparated"
    outcome = engine.query(sql, default_format, binds, settings, database, user)
    explicit = _OUTPUT_FORMAT.search(text)
    # clickhouse-connect's command() tells "empty result" from "no result" by X-ClickHouse-Format.
    fmt = explicit.group(1) if explicit else default_format
    has_output = bool(outcome.body) or explicit is not None or _READS.match(text) is not None
    return _Reply(outcome, fmt if has_output else None, timezone)


_READ_STATEMENTS = frozenset({"SELECT", "WITH", "SHOW", "DESC", "DESCRIBE", "EXISTS", "EXPLAIN"})
_WORD = re.compile(r"[A-Za-z0-9_$]+")


def is_read_statement(sql: str) -> bool:
    """Whether `sql` is one statement that only reads (SELECT, WITH … SELECT, SHOW, DESC[RIBE], EXISTS,
    EXPLAIN): nothing but comments after a `;`, and no INTO OUTFILE, which chDB carries out on this host."""
    try:
        tokens = _tokens(sql)
    except ValueError:
        return False  # ClickHouse would not parse it either
    while tokens and tokens[-1] == ";":
        tokens.pop()
    if ";" in tokens:
        return False
    words = [token for token in tokens if token != "("]
    if not words or words[0] not in _READ_STATEMENTS:
        return False
    return not any(a == "INTO" and b == "OUTFILE" for a, b in itertools.pairwise(tokens))


def _tokens(sql: str) -> list[str]:
    """The significant tokens of `sql`, split where ClickHouse's lexer splits them (src/Parsers/Lexer.cpp),
    so that no `;` or keyword hides from this check in what the engine reads as a comment or a literal:
    words upper-cased, a literal or quoted name as its opening quote, other symbols one character each.
    ValueError where the lexer fails (an unclosed literal or comment, `#` starting no comment)."""
    tokens: list[str] = []
    pos, end = 0, len(sql)
    while pos < end:
        char = sql[pos]
        if char.isspace():
            pos += 1
        elif sql.startswith(("--", "//", "# ", "#!"), pos):
            newline = sql.find("\n", pos)
            pos = end if newline < 0 else newline
        elif sql.startswith("/*", pos):
            pos = _block_comment_end(sql, pos)
        elif char in "'\"`":
            pos = _quoted_end(sql, pos)
            tokens.append(char)
        elif char in "xXbB" and sql.startswith("'", pos + 1):
            digits = "0123456789abcdefABCDEF" if char in "xX" else "01"
            pos += 2
            while pos < end and sql[pos] in digits:
                pos += 1
            if not sql.startswith("'", pos):
                raise ValueError("unclosed binary or hexadecimal literal")
            pos += 1
            tokens.append("'")
        elif char == "$" and (heredoc := _heredoc_end(sql, pos)) is not None:
            pos = heredoc
            tokens.append("'")
        elif char.isascii() and (char.isalnum() or char in "_$"):
            word = cast(re.Match[str], _WORD.match(sql, pos))
            tokens.append(word.group().upper())
            pos = word.end()
        elif char == "#":
            raise ValueError("unrecognized token #")
        else:
            tokens.append(char)
            pos += 1
    return tokens


def _quoted_end(sql: str, pos: int) -> int:
    quote, pos = sql[pos], pos + 1
    while pos < len(sql):
        if sql[pos] == "\\":
            pos += 2
        elif sql[pos] != quote:
            pos += 1
        elif sql.startswith(quote, pos + 1):
            pos += 2  # a doubled quote stands for itself
        else:
            return pos + 1
    raise ValueError(f"{quote} is not closed")


def _block_comment_end(sql: str, pos: int) -> int:
    depth, pos = 1, pos + 2  # nested, as ClickHouse allows
    while pos + 2 <= len(sql):
        if sql.startswith("/*", pos):
            depth, pos = depth + 1, pos + 2
        elif sql.startswith("*/", pos):
            depth, pos = depth - 1, pos + 2
            if depth == 0:
                return pos
        else:
            pos += 1
    raise ValueError("multiline comment is not closed")


def _heredoc_end(sql: str, pos: int) -> int | None:
    """`$tag$ … $tag$`, tag possibly empty: the end of a here-document starting at `pos`, or None."""
    close = sql.find("$", pos + 1)
    if close < 0:
        return None
    tag = sql[pos : close + 1]
    found = sql.find(tag, close + 1)
    return None if found < 0 else found + len(tag)


def credentials(headers: Message, params: Mapping[str, str], version: str) -> tuple[str, str]:
    """(user, password) as ClickHouse's HTTP handler takes them (authenticateUserByHTTP): the
    X-ClickHouse-User / X-ClickHouse-Key headers, HTTP basic auth or the `user` / `password`
    parameters, never two of them at once; none at all means `default` without a password."""
    user, key = headers.get("X-ClickHouse-User", ""), headers.get("X-ClickHouse-Key", "")
    authorization = headers.get("Authorization")
    in_params = "user" in params or "password" in params

    def mixed(first: str, second: str) -> _ClickHouseError:
        return _ClickHouseError.authentication(
            f"Invalid authentication: it is not allowed to use {first} and {second} simultaneously", version
        )

    if user or key:
        if authorization is not None:
            raise mixed("X-ClickHouse HTTP headers", "Authorization HTTP header")
        if in_params:
            raise mixed("X-ClickHouse HTTP headers", "authentication via parameters")
        if not user:
            raise _ClickHouseError.authentication(
                "Got an empty user name from X-ClickHouse HTTP headers", version
            )
        return user, key
    if authorization is not None:
        if in_params:
            raise mixed("Authorization HTTP header", "authentication via parameters")
        return _basic_credentials(authorization, version)
    user = params.get("user", "default")
    if not user:
        raise _ClickHouseError.authentication(
            "Got an empty user name from authentication via parameters", version
        )
    return user, params.get("password", "")


def _basic_credentials(authorization: str, version: str) -> tuple[str, str]:
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise _ClickHouseError.authentication(
            f"Invalid authentication: '{scheme}' HTTP Authorization scheme is not supported", version
        )
    try:
        user, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _ClickHouseError.authentication(
            "Invalid authentication: malformed Basic credentials", version
        ) from None
    if not user:
        raise _ClickHouseError.authentication(
            "Got an empty user name from Authorization HTTP header", version
        )
    return user, password


def authenticate(users: Mapping[str, User], name: str, password: str, version: str) -> User:
    user = users.get(name)
    # Constant time, and one answer for an unknown user and a wrong password, as a server gives.
    if user is None or not hmac.compare_digest(user.password.encode(), password.encode()):
        raise _ClickHouseError.authentication(
            f"{name}: Authentication failed: password is incorrect, or there is no user with such name.",
            version,
        )
    return user


def _chain(*parts: Iterable[bytes]) -> Iterator[bytes]:
    for part in parts:
        yield from part


def _form_fields(content_type: str, body: bytes, version: str) -> dict[str, str]:
    """clickhouse-connect moves the query and long parameters into multipart form fields."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        if part.get_param("filename", header="content-disposition"):
            raise _ClickHouseError.of(
                48, "NOT_IMPLEMENTED", "External data tables are not supported", version
            )
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload.decode("utf-8")
    return fields


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    engine: _Engine
    users: dict[str, User]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clickhouse-connect pools connections
    server_version = "acdscope-chdb"
    sys_version = ""
    timeout = 30  # idle keep-alive connections close, as on a real server
    # Headers and body leave in one segment; otherwise Nagle meets the client's delayed ACK and
    # every small query waits ~40 ms.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def _dispatch(self) -> None:
        server = cast(_Server, self.server)
        engine = server.engine
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        query_id = params.get("query_id") or str(uuid.uuid4())
        try:
            with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as body:
                self._read_body(body, engine.version)
                if url.path == "/ping" or (
                    url.path == "/" and "query" not in params and self.command == "GET"
                ):
                    self._send(200, b"Ok.\n", {"Content-Type": "text/plain; charset=UTF-8"})
                    return
                if url.path != "/":
                    message = f"There is no handle {url.path}\n\nUse / or /ping for health checks.\n"
                    self._send(404, message.encode(), {"Content-Type": "text/plain; charset=UTF-8"})
                    return
                # Credentials come from the headers and the URL, as on a server; form fields carry none.
                name, password = credentials(self.headers, params, engine.version)
                user = authenticate(server.users, name, password, engine.version)
                content_type = self.headers.get("Content-Type", "")
                if content_type.startswith("multipart/form-data"):
                    params.update(_form_fields(content_type, body.read(), engine.version))
                    body.seek(0)
                    body.truncate()
                reply = _execute(engine, params, cast(IO[bytes], body), user)
        except Exception as caught:
            ex = caught if isinstance(caught, _ClickHouseError) else None
            if ex is None:  # a bug here still reaches the client as a DatabaseError, not a dropped socket
                logger.exception("query %s: unexpected failure", query_id)
                ex = _ClickHouseError.of(1001, "STD_EXCEPTION", repr(caught), engine.version)
            else:
                logger.warning("query %s failed: %s", query_id, ex.text)
            headers = {
                "Content-Type": "text/plain; charset=UTF-8",
                "X-ClickHouse-Exception-Code": str(ex.code),
                "X-ClickHouse-Query-Id": query_id,
            }
            self._send(ex.status, (ex.text + "\n").encode(), headers)
            return
        self._send_reply(reply, query_id, params)

    def _send_reply(self, reply: _Reply, query_id: str, params: dict[str, str]) -> None:
        body = reply.outcome.body
        headers = {
            "Content-Type": _content_type(reply.fmt) if reply.fmt else "text/plain; charset=UTF-8",
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Timezone": reply.timezone,
            "X-ClickHouse-Server-Display-Name": socket.gethostname(),
            "X-ClickHouse-Summary": json.dumps(reply.outcome.summary, separators=(",", ":")),
        }
        if reply.fmt:
            headers["X-ClickHouse-Format"] = reply.fmt
        # chDB reports enable_http_compression = 1, so clients see compression as switched on
        # and only ask through Accept-Encoding; an explicit 0 still turns it off.
        encoding = _pick_encoding(self.headers.get("Accept-Encoding"))
        if body and encoding and params.get("enable_http_compression") != "0":
            body = _compress(body, encoding)
            headers["Content-Encoding"] = encoding
        self._send(200, body, headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self, sink: IO[bytes], version: str) -> None:
        try:
            decoder = _BodyDecoder(self.headers.get("Content-Encoding", ""))
            for chunk in self._raw_body():
                sink.write(decoder.feed(chunk))
            decoder.finish()
        except LookupError as ex:
            self.close_connection = True  # the rest of the body was not read
            raise _ClickHouseError.of(48, "NOT_IMPLEMENTED", str(ex), version) from None
        except Exception as ex:
            self.close_connection = True
            raise _ClickHouseError.of(
                271, "CANNOT_DECOMPRESS", f"Cannot read request body: {ex}", version
            ) from None
        sink.seek(0)

    def _raw_body(self) -> Iterator[bytes]:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline(1024).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                yield from self._read_exact(size)
                self.rfile.readline(1024)
        else:
            yield from self._read_exact(int(self.headers.get("Content-Length") or 0))

    def _read_exact(self, size: int) -> Iterator[bytes]:
        while size > 0:
            data = self.rfile.read(min(size, _CHUNK))
            if not data:
                raise ConnectionError("client closed the connection mid-body")
            size -= len(data)
            yield data


def serve(path: Path, host: str, port: int) -> None:
    """Serve until SIGTERM/SIGINT, then let the running statement finish and close chDB, so the
    data directory is left consistent and unlocked."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = _Server((host, port), _Handler)  # bind first: a busy port fails before chDB loads
    path.mkdir(parents=True, exist_ok=True)
    server.users = local_users(dashboard_password())
    server.engine = _Engine(path)

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("signal %d: shutting down", signum)
        # shutdown() waits for serve_forever(), which runs on this very thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    logger.info(
        "serving ClickHouse %s (timezone %s) over HTTP on %s:%d, data %s",
        server.engine.version,
        server.engine.timezone,
        host,
        port,
        path,
    )
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        server.engine.close()
        logger.info("stopped")


def _env_port() -> int:
    return int(os.environ.get("ACDSCOPE_CLICKHOUSE_PORT") or _DEFAULT_PORT)


@functools.cache
def _versions() -> tuple[str, str]:
    """(chDB, ClickHouse engine) versions. Asked of a throwaway interpreter, because importing
    chdb boots an engine and costs ~270 MB in whichever process merely launches the server."""
    code = "import chdb; print(chdb.__version__, chdb.engine_version)"
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
        chdb_version, engine_version = out.stdout.split()[-2:]
    except (subprocess.SubprocessError, ValueError, OSError):
        return "unknown", "unknown"
    return chdb_version, engine_version


@dataclass(frozen=True)
class ChdbServer:
    """A `serve` process on one port and one data directory, tracked by a pid file so any
    process (tests, scripts, the CLI) can start, find and stop it."""

    root: Path = field(default_factory=lambda: _REPO)
    data_dir: Path = _DERIVED
    host: str = "127.0.0.1"
    port: int = field(default_factory=_env_port)

    def __post_init__(self) -> None:
        if self.data_dir == _DERIVED:
            object.__setattr__(self, "data_dir", self.root / ".local" / "chdb-data")

    @classmethod
    def from_env(cls) -> ChdbServer:
        """ACDSCOPE_CLICKHOUSE_HOST / ACDSCOPE_CLICKHOUSE_PORT / ACDSCOPE_CHDB_DATA_DIR."""
        data_dir = os.environ.get("ACDSCOPE_CHDB_DATA_DIR")
        return cls(
            data_dir=Path(data_dir) if data_dir else _DERIVED,
            host=os.environ.get("ACDSCOPE_CLICKHOUSE_HOST") or "127.0.0.1",
            port=_env_port(),
        )

    @property
    def pid_file(self) -> Path:
        return self.root / ".local" / f"chdb-server-{self.port}.pid"

    @property
    def log_file(self) -> Path:
        return self.root / ".local" / "logs" / f"chdb-server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://{self._client_host}:{self.port}"

    @property
    def _client_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host

    def start(self) -> int:
        pid = self.pid()
        if pid is not None:
            print(f"clickhouse: local ClickHouse endpoint already running on {self.url}, pid {pid}")
            return pid
        if not _port_free(self.host, self.port):
            # Otherwise wait_ready() could talk to whatever already answers on this port.
            raise RuntimeError(f"clickhouse: port {self.port} on {self.host} is already in use")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO), env.get("PYTHONPATH", "")) if p)
        # A production server runs in UTC; without this a DateTime without a zone would follow
        # the laptop. An explicit TZ still wins.
        env.setdefault("TZ", "UTC")
        command = [sys.executable, "-m", "infra.chdb_server", "serve"]
        command += ["--path", str(self.data_dir), "--host", self.host, "--port", str(self.port)]
        with self.log_file.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=_REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        _launched[process.pid] = process
        self.pid_file.write_text(f"{process.pid}\n")
        chdb_version, engine_version = _versions()
        print(
            f"clickhouse: starting local ClickHouse endpoint (chDB {chdb_version}, ClickHouse {engine_version}) "
            f"on {self.url}, pid {process.pid}, data {self.data_dir}, log {self.log_file}"
        )
        return process.pid

    def wait_ready(self, timeout: float = 60.0) -> None:
        import clickhouse_connect

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while True:
            if not self.is_running():
                raise RuntimeError(
                    f"clickhouse: endpoint on port {self.port} is not running\n{self._log_tail()}"
                )
            try:
                # A bare TCP probe first: clickhouse-connect logs a warning for each refused connection.
                socket.create_connection((self._client_host, self.port), timeout=2).close()
                client = clickhouse_connect.get_client(
                    host=self._client_host, port=self.port, connect_timeout=2, send_receive_timeout=10
                )
                try:
                    if client.command("SELECT 1") == 1:
                        return
                finally:
                    client.close()
            except Exception as ex:
                last = ex
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"clickhouse: endpoint on port {self.port} not ready after {timeout:.0f}s ({last})\n"
                    f"{self._log_tail()}"
                )
            time.sleep(0.2)

    def stop(self, timeout: float = 15.0) -> None:
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not self._wait_exit(pid, timeout):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                self._wait_exit(pid, 5.0)
        self.pid_file.unlink(missing_ok=True)

    def is_running(self) -> bool:
        return self.pid() is not None

    def pid(self) -> int | None:
        """None for a stale pid file too, so a crashed server never blocks start()."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while _alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return f"(no log at {self.log_file})"
        return f"--- last lines of {self.log_file} ---\n" + "\n".join(text.splitlines()[-lines:])


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server binds
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _alive(pid: int) -> bool:
    """Checks the command line too, so a recycled pid is not mistaken for the server."""
    process = _launched.get(pid)
    if process is not None:  # our own child: its pid cannot be recycled before we reap it
        if process.poll() is None:
            return True
        del _launched[pid]
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        return True  # no procfs (macOS): trust the signal check
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z" and b"infra.chdb_server" in (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.chdb_server", description=__doc__)
    parser.add_argument("action", choices=["serve", "start", "stop", "status"])
    parser.add_argument("--path", type=Path, help="chDB data directory (default .local/chdb-data)")
    parser.add_argument("--host", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTP port (default $ACDSCOPE_CLICKHOUSE_PORT or 18123)")
    args = parser.parse_args(argv)
    base = ChdbServer.from_env()
    server = ChdbServer(
        root=base.root,
        data_dir=args.path.resolve() if args.path else base.data_dir,
        host=args.host or base.host,
        port=args.port or base.port,
    )
    if args.action == "serve":
        serve(server.data_dir, server.host, server.port)
    elif args.action == "start":
        server.start()
        server.wait_ready()
    elif args.action == "stop":
        server.stop()
        print(f"clickhouse: stopped endpoint on port {server.port}")
    else:
        pid = server.pid()
        if pid is None:
            print(f"clickhouse: not running on port {server.port}")
            return 1
        print(f"clickhouse: running on {server.url}, pid {pid}, log {server.log_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
