"""The README's "Streaming, live" block, run as written, as a new user would: `acdscope up` starts servers of
its own (on ports and directories of this test, so it must start them, and `down` must stop them), the
worker, the page and the live simulator; the block's queries answer with the tenant's figures within minutes;
the page in headless Chromium shows them (screenshot in tests/artifacts/); `acdscope down` stops every
process `up` recorded and the servers it started.

The commands are read from the README, not copied: a README edit that breaks them fails here.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.support.browser import ARTIFACTS
from tests.support.browser import CHROMIUM_ARGS
from tests.support.browser import chromium_path

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# Ports no other test or server of the suite uses: `up` finds nothing running there and starts its own.
KAFKA_PORT, CLICKHOUSE_PORT = 49092, 48123


def readme_block() -> list[str]:
    """The commands of the first bash block under '## Streaming, live', comments and blank lines dropped."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Streaming, live", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block is not None, "no bash block under '## Streaming, live'"
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_readme_streaming_block_runs_as_written(tmp_path: Path) -> None:
    commands = readme_block()
    up, *queries, down = commands
    assert up.split()[-1] == "up"
    assert down.split()[-1] == "down"
    assert queries
    for port in (KAFKA_PORT, CLICKHOUSE_PORT, 8050):
        assert not _listening(port), f"port {port} is taken: this test needs it free"
    env = {
        **os.environ,
        "ACDSCOPE_KAFKA_PORT": str(KAFKA_PORT),
        "ACDSCOPE_KAFKA_CONTROLLER_PORT": str(KAFKA_PORT + 1),
        "ACDSCOPE_KAFKA_SASL_PORT": str(KAFKA_PORT + 2),
        "ACDSCOPE_KAFKA_HOME": str(tmp_path / "kafka"),
        "ACDSCOPE_KAFKA_BOOTSTRAP": f"127.0.0.1:{KAFKA_PORT}",
        "ACDSCOPE_CLICKHOUSE_PORT": str(CLICKHOUSE_PORT),
        "ACDSCOPE_CHDB_DATA_DIR": str(tmp_path / "chdb"),
        "ACDSCOPE_CLICKHOUSE_DSN": f"http://127.0.0.1:{CLICKHOUSE_PORT}/default",
        "ACDSCOPE_FAUST_DATA_DIR": str(tmp_path / "faust"),
        "ACDSCOPE_UP_DIR": str(tmp_path / "up"),
        "ACDSCOPE_RUNS_DIR": str(tmp_path / "runs"),
    }
    env.pop("ACDSCOPE_TENANT_FILES", None)
    env.pop("ACDSCOPE_ENGINE_CONFIG", None)
    log = (tmp_path / "up.out").open("wb")
    process = subprocess.Popen(shlex.split(up), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    outputs: dict[str, str] = {}
    state: dict[str, object] = {}
    try:
        deadline = time.monotonic() + 300
        url = None
        while url is None:
            assert process.poll() is None, f"acdscope up exited: {(tmp_path / 'up.out').read_text()}"
            assert time.monotonic() < deadline, f"no page URL in 300 s: {(tmp_path / 'up.out').read_text()}"
            found = re.search(r"page: (http://\S+)", (tmp_path / "up.out").read_text())
            url = found.group(1) if found else None
            time.sleep(1)
        state = json.loads((tmp_path / "up" / "state.json").read_text())
        assert state["kafka"] is True  # nothing ran on these ports: `up` started both servers
        assert state["clickhouse"] is True
        assert [p["name"] for p in state["processes"]] == ["worker", "page", "simulator"]  # type: ignore[index]
        # Each query of the block, retried until the live figures are there (the worker joins its group and
        # the simulator publishes its first hour within a minute or two).
        for command in queries:
            deadline = time.monotonic() + 180
            while True:
                result = subprocess.run(
                    shlex.split(command), cwd=ROOT, env=env, capture_output=True, text=True
                )
                if result.returncode == 0 and ("row 1 of" in result.stdout or "┃" in result.stdout):
                    outputs[command] = result.stdout
                    break
                assert time.monotonic() < deadline, f"{command}: {result.stdout}{result.stderr}"
                time.sleep(5)
        scorecard = next(out for command, out in outputs.items() if "vendor_scorecard" in command)
        # The tenant's two sources, with figures: the in-house center's calls and its service level.
        assert "in-house" in scorecard
        assert "vendor-a" in scorecard
        offered = re.search(r"│ offered\s+│ (\d+)", scorecard)
        assert offered is not None
        assert int(offered.group(1)) > 50, scorecard
        assert re.search(r"│ sl_abandons_against\s+│ 0\.\d+", scorecard), scorecard
        comparison = next(out for command, out in outputs.items() if "setup_comparison" in command)
        assert "bank" in comparison
        assert "virtualized" in comparison
        # The month to date settled on the tenant file's contracts: the vendor billed per contact, judged.
        settlement = next(out for command, out in outputs.items() if "settlement" in command)
        assert re.search(r"│ source\s+│ vendor-a", settlement), settlement
        assert re.search(r"│ billed\s+│ \d+\.\d+", settlement), settlement
        assert re.search(r"│ verdict\s+│ (on track|at risk|chronic)", settlement), settlement
        _screenshot(url)
    finally:
        ran = subprocess.run(
            shlex.split(down), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        process.wait(30)
        log.close()
    assert ran.returncode == 0, ran.stdout + ran.stderr
    for record in state["processes"]:  # type: ignore[attr-defined]
        assert not Path(f"/proc/{record['pid']}").exists() or record["name"] == "", record
        assert f"{record['name']} (pid {record['pid']}): stopped in" in ran.stdout, ran.stdout
    assert "Kafka: stopped" in ran.stdout
    assert not _listening(KAFKA_PORT)
    assert not _listening(CLICKHOUSE_PORT)
    assert not _listening(8050)


def _screenshot(url: str) -> None:
    """The page `up` serves, once its intraday charts show the live tenant; no console errors."""
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda exception: errors.append(str(exception)))
        page.goto(url)
        page.wait_for_selector("#comparison tbody tr", timeout=60_000)
        page.wait_for_function(
            "document.getElementById('intraday-status').textContent.includes('source-intervals')",
            timeout=60_000,
        )
        page.wait_for_selector("#intraday-sl .main-svg", timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "up-live-page.png"), full_page=True)
        assert page.locator("#comparison tbody tr").count() == 1  # the one live tenant
        # The forecast `up` loads is dated like the live run: its line has points where the calls have.
        forecast = page.evaluate(
            "document.getElementById('intraday-volume').data"
            ".filter(t => t.name === 'in-house forecast')[0].y.filter(v => v !== null).length"
        )
        assert forecast >= 4
        browser.close()
    assert errors == []
