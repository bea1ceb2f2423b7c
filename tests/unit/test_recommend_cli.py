"""The README's `acdscope recommend` command, read from the README and run as written, as a new user would: it
prints the best plan of each engagement model and the ranked plans, and writes the HTML page with both tables
and the cost-service frontier chart, whose best plan is plausible: it meets the targets and its staff are
75-90 % occupied, as a real center's are (see the README's example)."""

from __future__ import annotations

import re
import shlex
import subprocess
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_command() -> list[str]:
    section = (ROOT / "README.md").read_text().split("### Recommendation: `acdscope recommend`", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block is not None, "no bash block under the Recommendation section"
    (line,) = [line.strip() for line in block.group(1).splitlines() if line.strip()]
    return shlex.split(line)


class _Rows(HTMLParser):
    """The cells of the best row (`tr.best`) of the page's first table, by its header."""

    def __init__(self) -> None:
        super().__init__()
        self.head: list[str] = []
        self.best: list[str] = []
        self._where = ""
        self._in_best = False
        self._tables = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._tables += 1
        if self._tables == 1 and tag in ("th", "td"):
            self._where = tag
        if self._tables == 1 and tag == "tr":
            self._in_best = ("class", "best") in attrs

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td"):
            self._where = ""

    def handle_data(self, data: str) -> None:
        if self._where == "th":
            self.head.append(data)
        elif self._where == "td" and self._in_best:
            self.best.append(data)


def test_the_readme_recommend_command_runs_as_written() -> None:
    command = readme_command()
    assert command[:2] == [".venv/bin/acdscope", "recommend"]
    page = ROOT / ".local" / "recommend.html"
    page.unlink(missing_ok=True)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "The best plan of each engagement model" in done.stdout
    assert "is the cheapest of the" in done.stdout
    text = page.read_text()
    assert 'id="frontier"' in text
    assert 'id="ranked"' in text
    rows = _Rows()
    rows.feed(text)
    best = dict(zip(rows.head, rows.best, strict=True))
    assert best["meets"] == "yes"
    service_level = float(best["service level"].split("±")[0])
    occupancy = float(best["occupancy"].split("±")[0])
    assert service_level >= 80.0
    assert 70.0 <= occupancy <= 90.0
