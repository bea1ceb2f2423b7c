"""`acdscope up` / `acdscope down`: the streaming deployment on this machine, started by one command.

A new user's first question is "what does it show live?", and answering it by hand took six commands in the
right order, with a tenant the worker knew nothing about. `up` does what an operator would, from one tenant
file: the local stack (Kafka and the ClickHouse endpoint, only those not already running), the migrations,
the topics, the tenant's contracts (`source_terms`) and its forecast (the simulated demand, as the demo
loads it), the Faust worker told the tenant file, the dashboard page, and the full simulator publishing that
tenant live (`producers.simulator.live`: the day opens an hour before now and runs at N x real time), and
with `ACDSCOPE_ALERT_WEBHOOK_URL` set the alerts' webhook delivery (`acdscope alerts-webhook`). It prints
the URL and what runs, and stays in the foreground; Ctrl-C, SIGTERM or `acdscope down` (from another shell,
or after `up` itself was killed) stops everything it started, by the PIDs it recorded in `.local/up/state.json` (`ACDSCOPE_UP_DIR`),
and nothing it did not start (a stack already running before it stays up).

Process management only: every step is the same code the separate commands run.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from typing import TypedDict
from urllib.parse import urlsplit

from acdscope.settings import Settings
from acdscope.settings import get_settings

if TYPE_CHECKING:
    from infra.chdb_server import ChdbServer
    from infra.kafka_local import KafkaLocal
    from producers.simulator.scenario import Scenario

# A process that has not stopped this long after SIGTERM is killed.
STOP_TIMEOUT_S = 15.0


def state_dir() -> Path:
    """`up_dir` (ACDSCOPE_UP_DIR): the state file and the logs of what `up` started."""
    return Path(get_settings().up_dir)


class Recorded(TypedDict):
    """One process `up` started, as the state file holds it: a pid and its start tick name one process."""

    name: str
    pid: int
    ticks: int | None
    log: str


class UpError(RuntimeError):
    """`up` cannot start: the message says what and what to do."""


@dataclass
class Started:
    """What one `up` started, as written to the state file: only these are stopped by `down`."""

    processes: list[Recorded] = field(default_factory=list)
    kafka: bool = False
    clickhouse: bool = False
    url: str = ""
    tenant: str = ""
    # Set by `down` before it stops anything, so the `up` still in the foreground exits quietly.
    stopping: bool = False

    def save(self) -> None:
        state_dir().mkdir(parents=True, exist_ok=True)
        tmp = state_dir() / "state.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(state_dir() / "state.json")

    @classmethod
    def load(cls) -> Started | None:
        try:
            return cls(**json.loads((state_dir() / "state.json").read_text()))
        except FileNotFoundError:
            return None


def _start_ticks(pid: int) -> int | None:
    """When `pid` started (clock ticks since boot, /proc/<pid>/stat field 22); None when it is gone.

    A pid and its start time name one process: a recorded pid reused by another process since is not ours."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return None if fields[0] == "Z" else int(fields[19])


def _ours(process: Recorded) -> bool:
    """The recorded process still runs (the same pid, started at the same tick)."""
    return _start_ticks(process["pid"]) == process["ticks"]


def _local_stack(settings: Settings) -> tuple[KafkaLocal, ChdbServer] | None:
    """The local servers, when the settings point at them (else production servers: not ours to start)."""
    from infra.chdb_server import ChdbServer
    from infra.kafka_local import KafkaLocal

    kafka, clickhouse = KafkaLocal.from_env(), ChdbServer.from_env()
    dsn = urlsplit(settings.clickhouse_dsn)
    if settings.kafka_bootstrap != kafka.bootstrap or (dsn.hostname, dsn.port) != (
        clickhouse.host,
        clickhouse.port,
    ):
        return None
    return kafka, clickhouse


def start_stack(settings: Settings, started: Started, say: Callable[[str], None]) -> None:
    local = _local_stack(settings)
    if local is None:
        say(f"servers: Kafka {settings.kafka_bootstrap} and ClickHouse from the settings (not started here)")
        return
    kafka, clickhouse = local
    started.kafka, started.clickhouse = not kafka.is_running(), not clickhouse.is_running()
    started.save()
    if started.kafka:
        kafka.ensure_jars()
        kafka.start()
    if started.clickhouse:
        clickhouse.start()
    kafka.wait_ready()
    clickhouse.wait_ready()


def prepare(settings: Settings, tenant_file: Path, live: Scenario, say: Callable[[str], None]) -> None:
    """Migrations, topics, the tenant's contracts and the live run's forecast (its intended demand, on the
    live run's own dates): what the worker and the page read."""
    from producers.kafka_out import ensure_topics
    from streams.edge.engine_config import load_engine_config
    from streams.warehouse.client import connect
    from streams.warehouse.migrations import migrate
    from streams.warehouse.terms import load_terms

    client = connect(settings.clickhouse_dsn)
    try:
        applied = migrate(client)
        ensure_topics(settings.kafka_bootstrap, all_topics(settings), settings.kafka_security())
        config = load_engine_config(settings.engine_config, tenant_paths(settings, tenant_file))
        sources = load_terms(client, config)
    finally:
        client.close()
    rows = load_run_forecast(settings, live)
    say(f"warehouse: {len(applied)} migration(s) applied, terms of {sources} source(s), {rows} forecast rows")


def all_topics(settings: Settings) -> dict[str, int]:
    """Every topic the worker reads or writes, with its partition count (Faust needs them to exist first)."""
    inputs = (
        settings.topic_contact_events,
        settings.topic_agent_events,
        settings.topic_vendor_reports,
        settings.topic_caller_contacts,
        settings.topic_alert_inputs,
        settings.topic_alerts,
    )
    return {**{name: settings.topic_partitions for name in inputs}, settings.topic_dead_letter: 1}


def load_run_forecast(settings: Settings, scenario: Scenario) -> int:
    """A simulated run's forecast is its intended demand (`producers.simulator.forecast`), as the demo loads
    it: dated like the run, so a breached interval's cause can be judged against it. The rows loaded."""
    from producers.simulator.forecast import scenario_forecast
    from streams.warehouse.client import connect
    from streams.warehouse.forecast import load_forecast

    rows = scenario_forecast(scenario)
    client = connect(settings.clickhouse_dsn)
    try:
        load_forecast(client, rows)
    finally:
        client.close()
    return len(rows)


def tenant_paths(settings: Settings, tenant_file: Path) -> list[str]:
    """The deployment's tenant files with this one, once."""
    paths = settings.tenant_paths()
    resolved = {Path(path).resolve() for path in paths}
    return paths if tenant_file.resolve() in resolved else [*paths, str(tenant_file.resolve())]


def spawn(name: str, argv: list[str], env: dict[str, str], started: Started) -> subprocess.Popen[bytes]:
    """A child in its own session (so Ctrl-C reaches it through `up`, which stops it in order), its output
    in `<up_dir>/<name>.log`, recorded before anything else can fail."""
    state_dir().mkdir(parents=True, exist_ok=True)
    log = state_dir() / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    ticks = _start_ticks(process.pid)
    started.processes.append({"name": name, "pid": process.pid, "ticks": ticks, "log": str(log)})
    started.save()
    return process


def wait_for_page(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UpError(
                f"the dashboard page exited with {process.returncode}; see {state_dir() / 'page.log'}"
            )
        try:
            with urllib.request.urlopen(url + "api", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise UpError(f"the dashboard page did not answer on {url} within {timeout_s:.0f} s")


def up(
    tenant_file: Path,
    speed: float,
    days: int,
    port: int,
    backfill_minutes: int,
    settings: Settings,
    say: Callable[[str], None],
) -> tuple[Started, dict[str, subprocess.Popen[bytes]]]:
    """Start everything (see the module docstring); returns what runs. Refused before anything starts when a
    previous `up` is still running or the tenant file is invalid."""
    from producers.simulator.live import live_scenario
    from producers.simulator.scenario import scenario_from_dict
    from producers.simulator.scenario import scenario_from_tenant
    from streams.tenant import load_tenant_file

    previous = Started.load()
    if previous is not None and any(_ours(process) for process in previous.processes):
        raise UpError(f"already up ({previous.url}): run `acdscope down` first")
    tenant = load_tenant_file(tenant_file)
    # The live run's dates are fixed here, once, so the forecast loaded and the events published agree;
    # a tenant that cannot be simulated is refused before anything starts.
    scenario = scenario_from_dict({**scenario_from_tenant(tenant).model_dump(), "days": days})
    live = live_scenario(scenario, int(time.time() * 1000), backfill_minutes)
    begins = datetime.combine(live.start_date, live.start_time, tzinfo=UTC)
    started = Started(url=f"http://127.0.0.1:{port}/", tenant=tenant.name)
    started.save()
    start_stack(settings, started, say)
    prepare(settings, tenant_file, live, say)
    env = {**os.environ, "ACDSCOPE_TENANT_FILES": ",".join(tenant_paths(settings, tenant_file))}
    cli = [sys.executable, "-m", "acdscope.cli"]
    run_dir = state_dir() / f"run-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    processes = {
        "worker": spawn("worker", [*cli, "worker"], env, started),
        "page": spawn("page", [*cli, "dashboard", "--port", str(port)], env, started),
    }
    if settings.alert_webhook_url:
        # Alerts reach people: every transition on the alerts topic POSTed to the configured webhook.
        processes["webhook"] = spawn("webhook", [*cli, "alerts-webhook"], env, started)
    wait_for_page(started.url, processes["page"])
    processes["simulator"] = spawn(
        "simulator",
        [*cli, "simulate", "--tenant", str(tenant_file), "--kafka", "--start", begins.isoformat(),
         "--speed", f"{speed:g}", "--days", str(days), "--backfill-minutes", str(backfill_minutes),
         "--out", str(run_dir)],
        env,
        started,
    )  # fmt: skip
    return started, processes


def stop_process(process: Recorded, timeout_s: float = STOP_TIMEOUT_S) -> str:
    """SIGTERM to the process's session, SIGKILL if it is still there after `timeout_s`; how it went."""
    pid = process["pid"]
    if not _ours(process):
        return "not running"
    began = time.monotonic()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    while time.monotonic() - began < timeout_s:
        _reap(pid)
        if not _ours(process):
            return f"stopped in {time.monotonic() - began:.1f} s"
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    _reap(pid)
    return f"killed after {timeout_s:.0f} s"


def _reap(pid: int) -> None:
    """Collect our own child's exit (else it lingers as a zombie); someone else's process is not ours to."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def down(say: Callable[[str], None]) -> bool:
    """Stop what the last `up` started, newest first, then the servers it started; False if nothing was up."""
    started = Started.load()
    if started is None:
        return False
    started.stopping = True
    started.save()
    for process in reversed(started.processes):
        say(f"{process['name']} (pid {process['pid']}): {stop_process(process)}")
    if started.kafka or started.clickhouse:
        from infra.chdb_server import ChdbServer
        from infra.kafka_local import KafkaLocal

        if started.clickhouse:
            ChdbServer.from_env().stop()
            say("ClickHouse endpoint: stopped")
        if started.kafka:
            KafkaLocal.from_env().stop()
            say("Kafka: stopped")
    (state_dir() / "state.json").unlink(missing_ok=True)
    return True
