"""A real single-node Apache Kafka 3.9.1 broker (KRaft) from Maven Central jars, for development and tests.

It must not need Docker, write outside .local/ (or the home it is given), or be used in production.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

KAFKA_VERSION = "3.9.1"
SCALA_VERSION = "2.13"
PROBE_TOPIC = "acdscope-probe"
NODE_ID = 1

_REPO_ROOT = Path(__file__).resolve().parents[1]

# Brokers launched by this process, kept referenced: a collected Popen of a live child warns
# "subprocess N is still running" (ResourceWarning), and poll() is how a dead child gets reaped.
_LAUNCHED: dict[int, subprocess.Popen[bytes]] = {}


def _env_port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a port number") from None


def _default_port() -> int:
    return _env_port("ACDSCOPE_KAFKA_PORT", 19092)


def _default_controller_port() -> int:
    return _env_port("ACDSCOPE_KAFKA_CONTROLLER_PORT", 19093)


# The development broker's SASL/PLAIN listener (loopback only) lets tests prove that the clients' SASL settings
# work against a real broker. Not a secret: a local development credential, overridable.
LOCAL_SASL_USER = "acdscope"
LOCAL_SASL_PASSWORD = os.environ.get("ACDSCOPE_KAFKA_LOCAL_SASL_PASSWORD", "acdscope-local-dev")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            # 64 KiB holds far more than `lines` log lines; avoids reading a 50 MB log to show its end.
            fh.seek(max(0, size - 65536))
            data = fh.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(data.splitlines()[-lines:]) or f"({path} is empty)"


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _wait_ports_closed(ports: tuple[int, ...], timeout: float) -> bool:
    """A killed JVM's main thread turns zombie before its other threads drop the sockets, so wait them out."""
    deadline = time.monotonic() + timeout
    while any(_port_open(p) for p in ports):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Serialise mvn runs and launches between processes (pytest-xdist workers, a shell and a test run)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass(frozen=True)
class KafkaLocal:
    """One broker per home directory; the jars are shared so that mvn runs once per checkout."""

    root: Path = field(default_factory=lambda: _REPO_ROOT)
    port: int = field(default_factory=_default_port)
    controller_port: int = field(default_factory=_default_controller_port)
    # None: ACDSCOPE_KAFKA_SASL_PORT, else two above `port` (a second broker on other ports moves it too).
    sasl_port: int | None = None
    # None means root/.local/kafka; tests pass a temporary directory to run a second, isolated broker.
    home_dir: Path | None = None

    def __post_init__(self) -> None:
        # The JVM runs with cwd=home and the pid check matches the command line, so relative paths would
        # point somewhere else once launched.
        object.__setattr__(self, "root", Path(self.root).resolve())
        if self.home_dir is not None:
            object.__setattr__(self, "home_dir", Path(self.home_dir).resolve())
        if self.sasl_port is None:
            object.__setattr__(self, "sasl_port", _env_port("ACDSCOPE_KAFKA_SASL_PORT", self.port + 2))

    @classmethod
    def from_env(cls) -> KafkaLocal:
        """Let a shell, CI or a second checkout move the broker without code changes."""
        home = os.environ.get("ACDSCOPE_KAFKA_HOME", "").strip()
        return cls(
            port=_default_port(),
            controller_port=_default_controller_port(),
            home_dir=Path(home) if home else None,
        )

    # ---- paths -------------------------------------------------------------------------------------

    @property
    def home(self) -> Path:
        return self.home_dir if self.home_dir is not None else self.root / ".local" / "kafka"

    @property
    def lib_dir(self) -> Path:
        # Deliberately not under `home`: a temporary home must not trigger a second 46 MB download.
        return self.root / ".local" / "kafka" / "lib"

    @property
    def maven_repo(self) -> Path:
        return self.root / ".local" / "m2"

    @property
    def pom(self) -> Path:
        return self.root / "infra" / "kafka" / "pom.xml"

    @property
    def log4j_config(self) -> Path:
        return self.root / "infra" / "kafka" / "log4j.properties"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def server_log(self) -> Path:
        return self.logs_dir / "server.log"

    @property
    def stdout_log(self) -> Path:
        return self.logs_dir / "broker.out"

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def server_properties(self) -> Path:
        return self.home / "server.properties"

    @property
    def sasl_bootstrap(self) -> str:
        """The SASL/PLAIN listener (user `LOCAL_SASL_USER`, password `LOCAL_SASL_PASSWORD`)."""
        return f"127.0.0.1:{self.sasl_port}"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def _ports(self) -> tuple[int, int]:
        return (self.port, self.controller_port)

    @property
    def _kafka_jar(self) -> Path:
        return self.lib_dir / f"kafka_{SCALA_VERSION}-{KAFKA_VERSION}.jar"

    # ---- jars --------------------------------------------------------------------------------------

    def ensure_jars(self) -> None:
        """Fetch the broker once; copying into a scratch dir and renaming means a killed mvn never leaves a half lib."""
        if self._kafka_jar.is_file():
            return
        with _locked(self.lib_dir.parent / "lib.lock"):
            if self._kafka_jar.is_file():  # another process fetched them while we waited
                return
            mvn = shutil.which("mvn")
            if mvn is None:
                raise RuntimeError(
                    f"kafka: `mvn` is not on PATH; it is needed once to fetch Apache Kafka {KAFKA_VERSION} "
                    f"from Maven Central into {self.lib_dir}"
                )
            scratch = self.lib_dir.with_name(f"lib.tmp-{os.getpid()}")
            shutil.rmtree(scratch, ignore_errors=True)
            cmd = [
                mvn,
                "-q",
                "-B",
                "-Dstyle.color=never",
                f"-Dmaven.repo.local={self.maven_repo}",
                "-f",
                str(self.pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={scratch}",
            ]
            print(
                f"kafka: fetching Apache Kafka {KAFKA_VERSION} jars from Maven Central into {self.lib_dir}",
                file=sys.stderr,
                flush=True,
            )
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0 or not (scratch / self._kafka_jar.name).is_file():
                shutil.rmtree(scratch, ignore_errors=True)
                output = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
                raise RuntimeError(
                    f"kafka: mvn failed (exit {proc.returncode}) to fetch the broker jars.\n"
                    f"command: {' '.join(cmd)}\n{output}"
                )
            shutil.rmtree(self.lib_dir, ignore_errors=True)  # a lib without the kafka jar is stale
            scratch.rename(self.lib_dir)

    # ---- process -----------------------------------------------------------------------------------

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _is_our_broker(self, pid: int) -> bool:
        """A pid file can outlive its process and the pid be reused, so check what the pid actually runs."""
        # Reap it if this very process launched it; otherwise a dead broker stays a zombie and looks alive.
        child = _LAUNCHED.get(pid)
        if child is not None:
            if child.poll() is not None:
                del _LAUNCHED[pid]
                return False
        else:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
        proc = Path(f"/proc/{pid}")
        if proc.is_dir():
            try:
                stat = (proc / "stat").read_text()
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                return False
            if stat.rpartition(")")[2].split()[0] in ("Z", "X"):
                return False
            return b"kafka.Kafka" in cmdline and str(self.server_properties).encode() in cmdline
        try:  # no /proc (not Linux): fall back to "some process has this pid"
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def running_pid(self) -> int | None:
        pid = self._read_pid()
        return pid if pid is not None and self._is_our_broker(pid) else None

    def is_running(self) -> bool:
        return self.running_pid() is not None

    def _write_server_properties(self) -> None:
        props = f"""\
# Written by infra/kafka_local.py at every start; edits here are overwritten.
process.roles=broker,controller
node.id={NODE_ID}
controller.quorum.voters={NODE_ID}@127.0.0.1:{self.controller_port}
listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port},SASL_PLAINTEXT://127.0.0.1:{self.sasl_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{self.port},SASL_PLAINTEXT://127.0.0.1:{self.sasl_port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
# A SASL/PLAIN listener beside the plain one, so the clients' SASL settings are tested against a real broker.
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_{LOCAL_SASL_USER}="{LOCAL_SASL_PASSWORD}";
log.dirs={self.data_dir}

# One broker: every internal topic must accept a single replica, or consumer groups and transactions hang.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
default.replication.factor=1
min.insync.replicas=1
# Fewer internal partitions than the default 50: the first consumer group waits for all of them to get
# a leader, and one broker gains nothing from 50.
offsets.topic.num.partitions=8
transaction.state.log.num.partitions=8
# Tests and Faust workers join groups right after start; the default 3 s delay only slows them down.
group.initial.rebalance.delay.ms=0

num.partitions=1
# Off on purpose: tests create every topic explicitly with its partition count, and Faust needs the source
# topics to exist with the partition count it is configured for (else PartitionsMismatch). An auto-created
# topic with the default count would hide that mistake until the first event.
auto.create.topics.enable=false
delete.topic.enable=true

# A development broker: keep a day of data, at most 1 GiB per partition, in 64 MiB segments so retention
# can actually delete something.
log.retention.hours=24
log.retention.bytes=1073741824
log.segment.bytes=67108864
log.retention.check.interval.ms=300000
"""
        self.server_properties.write_text(props)

    def _java(self, *args: str) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise RuntimeError("kafka: `java` (17 or newer) is not on PATH; the broker is a JVM program")
        return [
            java,
            "-cp",
            f"{self.lib_dir}/*",  # expanded by java itself, not by a shell
            f"-Dlog4j.configuration=file:{self.log4j_config}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            *args,
        ]

    def _format_storage(self) -> None:
        """KRaft refuses to start on an unformatted log dir; format once so data survives restarts."""
        if (self.data_dir / "meta.properties").is_file():
            return
        tool = self._java("-Xmx128m", "kafka.tools.StorageTool")
        uuid_proc = subprocess.run([*tool, "random-uuid"], capture_output=True, text=True, check=False)
        # random-uuid prints the id with no trailing newline; strip anyway in case log4j adds noise.
        cluster_id = uuid_proc.stdout.strip().splitlines()[-1].strip() if uuid_proc.stdout.strip() else ""
        if uuid_proc.returncode != 0 or len(cluster_id) != 22:
            # Same format Kafka uses (16 random bytes, URL-safe base64, no padding), should the tool misbehave.
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            if cluster_id.startswith("-"):
                cluster_id = "A" + cluster_id[1:]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fmt = subprocess.run(
            [*tool, "format", "-t", cluster_id, "-c", str(self.server_properties)],
            capture_output=True,
            text=True,
            check=False,
        )
        if fmt.returncode != 0:
            raise RuntimeError(
                f"kafka: formatting {self.data_dir} failed (exit {fmt.returncode}):\n"
                f"{(fmt.stdout + fmt.stderr).strip()}"
            )

    def _repair_interrupted_election(self) -> None:
        """Kafka 3.9.1 cannot restart a lone controller that was killed between voting for itself and becoming
        leader: the next start dies with "Cannot transition to Candidate ... already a Leader" (and, having
        persisted the leader state on the way, the start after it works). With a single voter nobody else can
        lead that epoch, so recording it as ours is exactly what that failed start would persist."""
        quorum_state = self.data_dir / "__cluster_metadata-0" / "quorum-state"
        try:
            state = json.loads(quorum_state.read_text())
        except (FileNotFoundError, ValueError):
            return
        if not isinstance(state, dict) or state.get("votedId") != NODE_ID or state.get("leaderId", -1) != -1:
            return
        state.update(leaderId=NODE_ID, votedId=-1)
        state.pop("votedDirectoryId", None)
        tmp = quorum_state.with_name("quorum-state.acdscope-tmp")
        tmp.write_text(json.dumps(state, separators=(",", ":")))
        tmp.replace(quorum_state)
        print(
            f"kafka: {quorum_state} held a self-vote from a broker killed mid-election; "
            f"recorded epoch {state.get('leaderEpoch')} as led by node {NODE_ID} so Kafka {KAFKA_VERSION} can start",
            file=sys.stderr,
            flush=True,
        )

    def start(self) -> int:
        """Launch detached so a Ctrl-C in pytest or the shell leaves it running until stop() says otherwise."""
        self.ensure_jars()
        with _locked(self.home / "broker.lock"):
            pid = self.running_pid()
            if pid is not None:
                print(
                    f"kafka: already running on {self.bootstrap}, pid {pid}, log {self.server_log}",
                    flush=True,
                )
                return pid
            if not _wait_ports_closed(self._ports, timeout=5.0):
                p = next((p for p in self._ports if _port_open(p)), self.port)
                raise RuntimeError(
                    f"kafka: port 127.0.0.1:{p} is already in use by another process (not the broker "
                    f"of {self.home}); stop it or set ACDSCOPE_KAFKA_PORT / ACDSCOPE_KAFKA_CONTROLLER_PORT"
                )
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._write_server_properties()
            self._format_storage()
            self._repair_interrupted_election()
            cmd = self._java(
                "-Xmx512m",
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                "-Djava.awt.headless=true",
                "kafka.Kafka",
                str(self.server_properties),
            )
            with self.stdout_log.open("wb") as out:
                proc = subprocess.Popen(
                    cmd,
                    cwd=self.home,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                )
            _LAUNCHED[proc.pid] = proc
            tmp = self.pid_file.with_suffix(".tmp")
            tmp.write_text(f"{proc.pid}\n")
            tmp.replace(self.pid_file)
        print(
            f"kafka: starting Apache Kafka {KAFKA_VERSION} broker (KRaft) on {self.bootstrap}, "
            f"pid {proc.pid}, log {self.server_log}",
            flush=True,
        )
        return proc.pid

    def _log_tails(self) -> str:
        return (
            f"--- {self.server_log} (tail) ---\n{_tail(self.server_log)}\n"
            f"--- {self.stdout_log} (tail) ---\n{_tail(self.stdout_log, 20)}"
        )

    def _round_trip(self, timeout_s: float) -> None:
        """An open port is not readiness: metadata, leaders and the group coordinator come seconds later."""
        from kafka import KafkaConsumer
        from kafka import KafkaProducer
        from kafka import TopicPartition
        from kafka.admin import KafkaAdminClient
        from kafka.errors import TopicAlreadyExistsError

        ms = max(1000, int(timeout_s * 1000))
        common: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "request_timeout_ms": ms,
            "bootstrap_timeout_ms": ms,
            "reconnect_backoff_max_ms": 500,
        }
        admin = KafkaAdminClient(client_id="acdscope-probe-admin", **common)
        try:
            if PROBE_TOPIC not in admin.list_topics():
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics({PROBE_TOPIC: {"num_partitions": 1, "replication_factor": 1}})
            admin.wait_for_topics([PROBE_TOPIC], timeout_ms=ms)
        finally:
            admin.close()

        token = f"probe-{uuid.uuid4()}".encode()
        producer = KafkaProducer(client_id="acdscope-probe-producer", acks="all", max_block_ms=ms, **common)
        try:
            meta = producer.send(PROBE_TOPIC, value=token, partition=0).get(timeout=timeout_s)
        finally:
            producer.close(timeout=2)

        # A group id plus commit() makes the probe also wait for the group coordinator, which Faust needs.
        tp = TopicPartition(PROBE_TOPIC, 0)
        consumer = KafkaConsumer(
            client_id="acdscope-probe-consumer",
            group_id="acdscope-probe",
            enable_auto_commit=False,
            **common,
        )
        try:
            consumer.assign([tp])
            consumer.seek(tp, meta.offset)
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                batch = consumer.poll(timeout_ms=500)
                if any(rec.value == token for recs in batch.values() for rec in recs):
                    consumer.commit()
                    return
            raise TimeoutError(f"produced {token!r} at offset {meta.offset} but did not consume it back")
        finally:
            consumer.close(autocommit=False)

    def _still_running_after(self, seconds: float) -> bool:
        time.sleep(seconds)
        return self.is_running()

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Block until a produce/consume round trip succeeds, so callers never race the broker's startup."""
        started = time.monotonic()
        deadline = started + timeout
        last_error: BaseException | None = None
        while True:
            # Twice, half a second apart: right after a launch the JVM's /proc entry can read as something else
            # for an instant (a broker restarted mid-test was once declared dead while it came up fine).
            if not self.is_running() and not self._still_running_after(0.5):
                raise RuntimeError(
                    f"kafka: the broker of {self.home} is not running (it exited or was never started)"
                    f"{f'; last probe error: {last_error!r}' if last_error else ''}\n{self._log_tails()}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"kafka: no produce/consume round trip on {self.bootstrap} within {timeout:.0f} s; "
                    f"last error: {last_error!r}\n{self._log_tails()}"
                )
            if _port_open(self.port):
                try:
                    self._round_trip(min(10.0, remaining))
                except Exception as exc:  # any client error just means "not yet"
                    last_error = exc
                else:
                    launched = self._launch_age()
                    since = f", {launched:.1f} s since launch" if launched is not None else ""
                    print(
                        f"kafka: ready on {self.bootstrap} (round trip ok in {time.monotonic() - started:.1f} s"
                        f"{since})",
                        flush=True,
                    )
                    return
            time.sleep(0.25)

    def _launch_age(self) -> float | None:
        """The pid file is written right after launch, so its mtime dates the launch across processes."""
        try:
            return time.time() - self.pid_file.stat().st_mtime
        except FileNotFoundError:
            return None

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM first so the broker closes its logs cleanly; a hard kill costs log recovery next start."""
        pid = self.running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self._is_our_broker(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self._is_our_broker(pid):
            print(f"kafka: broker pid {pid} ignored SIGTERM for {timeout:.0f} s; killing it", file=sys.stderr)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # its own session/group (start_new_session), so only the JVM
            kill_deadline = time.monotonic() + 10
            while self._is_our_broker(pid) and time.monotonic() < kill_deadline:
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        # Callers restart right away or assert the port is free; both need the sockets really gone.
        _wait_ports_closed(self._ports, timeout=10.0)

    def reset_data(self) -> None:
        """Wiping the log dirs under a live broker corrupts it, so this refuses while it runs."""
        if self.is_running():
            raise RuntimeError(f"kafka: stop the broker of {self.home} before reset_data()")
        shutil.rmtree(self.data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.kafka_local",
        description=f"Run a local Apache Kafka {KAFKA_VERSION} broker (KRaft) from Maven Central jars.",
    )
    parser.add_argument("command", choices=["start", "stop", "status", "wait", "restart"])
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for readiness")
    args = parser.parse_args(argv)

    kafka = KafkaLocal.from_env()
    if args.command in ("stop", "restart"):
        was = kafka.running_pid()
        kafka.stop()
        print(f"kafka: stopped pid {was}" if was is not None else "kafka: not running", flush=True)
    if args.command in ("start", "restart"):
        kafka.ensure_jars()
        kafka.start()
    if args.command in ("start", "restart", "wait"):
        kafka.wait_ready(args.timeout)
    if args.command == "status":
        pid = kafka.running_pid()
        if pid is None:
            print(f"kafka: not running (home {kafka.home})")
            return 1
        print(f"kafka: running, pid {pid}, {kafka.bootstrap}, log {kafka.server_log}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
