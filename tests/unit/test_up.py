"""`acdscope up` stops exactly what it started: processes by pid and start time (a reused pid is not ours),
SIGTERM first, SIGKILL after the timeout; refusals come before anything starts."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from acdscope import up as deployment
from acdscope.cli import app

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
STUBBORN = [
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(120)",
]


def _record(process: subprocess.Popen[bytes]) -> deployment.Recorded:
    return {"name": "x", "pid": process.pid, "ticks": deployment._start_ticks(process.pid), "log": ""}


def test_a_recorded_process_is_stopped_with_sigterm() -> None:
    process = subprocess.Popen(SLEEPER, start_new_session=True)
    record = _record(process)
    assert deployment._ours(record)
    outcome = deployment.stop_process(record, timeout_s=10)
    assert outcome.startswith("stopped in ")
    process.wait(5)  # reaped by stop_process already: gone from the process table
    assert not Path(f"/proc/{process.pid}").exists()
    assert not deployment._ours(record)
    assert deployment.stop_process(record) == "not running"


def test_one_that_ignores_sigterm_is_killed_after_the_timeout() -> None:
    process = subprocess.Popen(STUBBORN, start_new_session=True, stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"
    began = time.monotonic()
    assert deployment.stop_process(_record(process), timeout_s=1.0) == "killed after 1 s"
    assert 1.0 <= time.monotonic() - began < 5
    process.wait(5)
    assert not Path(f"/proc/{process.pid}").exists()


def test_a_pid_now_running_something_else_is_left_alone() -> None:
    process = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        ticks = deployment._start_ticks(process.pid)
        assert ticks is not None
        record: deployment.Recorded = {**_record(process), "ticks": ticks - 1}
        assert deployment.stop_process(record) == "not running"
        assert process.poll() is None
    finally:
        process.kill()
        process.wait()


def test_down_with_nothing_up_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deployment, "state_dir", lambda: tmp_path)
    result = CliRunner().invoke(app, ["down"])
    assert result.exit_code == 0
    assert "nothing is up" in result.output


def test_up_refuses_a_tenant_that_cannot_be_simulated_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deployment, "state_dir", lambda: tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[sources.in-house]\n[simulation.sources.vendor-q]\nagents = 2\n')
    result = CliRunner().invoke(app, ["up", "--tenant", str(bad)])
    assert result.exit_code == 2
    assert "simulation.sources: ['vendor-q'] not under the tenant's sources" in result.output
    assert not (tmp_path / "state.json").exists()


def test_simulate_refuses_pacing_without_kafka() -> None:
    result = CliRunner().invoke(app, ["simulate", "--out", "x", "--speed", "4"])
    assert result.exit_code == 2
    assert "--speed paces a publication: it needs --kafka" in result.output


def test_query_windows_read_today_and_iso_moments() -> None:
    from datetime import UTC
    from datetime import datetime
    from datetime import timedelta

    import typer

    from acdscope.cli import _moment

    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    assert _moment("today") == midnight
    assert _moment("tomorrow") - _moment("yesterday") == timedelta(days=2)
    assert _moment("2026-12-02") == datetime(2026, 12, 2)
    assert _moment("2026-12-02T10:15:00+0200").utcoffset() == timedelta(hours=2)
    with pytest.raises(typer.BadParameter, match="'noon' is neither ISO-8601"):
        _moment("noon")
