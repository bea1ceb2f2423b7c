"""A real local webhook receiver for the delivery tests, and alert transitions to feed it.

A `ThreadingHTTPServer` on a free loopback port, in a thread: it records every request (headers, exact body
bytes) and answers from a script of responses, 200 once the script is used up.
"""

from __future__ import annotations

import hashlib
import hmac
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def key(self) -> str:
        return self.headers["Idempotency-Key"]


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay_s: float = 0.0  # before answering, to make a client time out


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    script: list[Answer] = field(default_factory=list)
    # Answered once the script is used up; a test switches it to make the receiver fail for a while.
    default: Answer = field(default_factory=Answer)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self) -> list[str]:
        with self.lock:
            return [request.key for request in self.requests]

    def wait_for(self, count: int, timeout_s: float = 60.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.requests)} requests after {timeout_s} s, expected {count}")


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.requests.append(Received(self.path, dict(self.headers.items()), body))
                answer = state.script.pop(0) if state.script else state.default
            if answer.delay_s:
                time.sleep(answer.delay_s)
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="webhook-receiver", daemon=True
    )
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/acd?token=not-for-logs"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def expected_signature(secret: bytes, header: str, body: bytes) -> tuple[int, str, str]:
    """(timestamp, v1 received, v1 expected) computed here with `hmac`, independently of the project's `sign`."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return timestamp, parts["v1"], expected


def transition(
    alert_id: str = "a1", transition: str = "fired", interval: str = "2026-12-02T10:00:00+00:00"
) -> dict[str, Any]:
    """An alert transition as the worker publishes it (the fields of `sql/migrations/0018_alerts.sql`)."""
    key = f"bank/service_level/vendor-a/{interval}/{transition}/{alert_id}"
    return {
        "tenant": "bank",
        "alert_id": alert_id,
        "transition": transition,
        "rule": "service_level",
        "source": "vendor-a",
        "interval_start": interval,
        "decided_at": "2026-12-02T10:16:05+00:00",
        "value": 0.712,
        "threshold": 0.8,
        "streak": 2,
        "message": "vendor-a service level 71.2 % under its 80 % target for 2 intervals",
        "idempotency_key": key,
        "version": 1,
    }


def encoded(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value)


ROOT = Path(__file__).resolve().parents[2]


class Deliverer:
    """The CLI as a subprocess, its log (stderr) in a file."""

    def __init__(self, env: dict[str, str], url: str, log: Path) -> None:
        self.env, self.url, self.log = env, url, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "acdscope.cli", "alerts-webhook", "--url", self.url],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> None:
        assert self.process is not None
        assert self.process.poll() is None, f"the deliverer exited {self.process.returncode}:\n{self.text()}"

    def kill(self, how: signal.Signals) -> int:
        assert self.process is not None
        self.process.send_signal(how)
        return self.process.wait(timeout=30)


def wait_until(condition: Callable[[], bool], deliverer: Deliverer, what: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        deliverer.alive()
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}:\n{deliverer.text()[-4000:]}")
