"""`acdscope replay` accounts for every input line: a hostile copy of the Anonymous Bank log (its real first
calls plus the defects the public copies have), counted by a reader of the raw file that shares no code with the
adapter; `--rejects` writes each rejected line; `--strict` and an all-rejected input exit non-zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from acdscope.cli import app

JANUARY = Path(__file__).resolve().parents[3] / "shared" / "data" / "anonymous_bank" / "january.txt"


def _raw_counts(path: Path) -> dict[str, int]:
    """The file's lines by what they are, from the documented layout alone: 17 tab-separated fields, outcome in
    the 13th; a line that splits into 17 on whitespace is a repaired separator; PHANTOM is not a customer call."""
    counts = {"read": 0, "blank": 0, "customer": 0, "phantom": 0, "bad": 0}
    for number, line in enumerate(path.read_text(encoding="latin-1").splitlines(), start=1):
        counts["read"] += 1
        if not line.strip() or (number == 1 and line.startswith("vru+line")):
            counts["blank"] += 1
            continue
        fields = line.split("\t") if line.count("\t") == 16 else line.split()
        if len(fields) != 17 or fields[12] not in ("AGENT", "HANG", "PHANTOM") or len(fields[5]) != 6:
            counts["bad"] += 1
        elif fields[12] == "PHANTOM":
            counts["phantom"] += 1
        else:
            counts["customer"] += 1
    return counts


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = JANUARY.read_text(encoding="latin-1").splitlines()[:400]
    phantom = next(line for line in lines[1:] if "\tPHANTOM\t" in line)
    served = lines[5]
    bad = [
        "\t".join(served.split("\t")[:9]),  # a truncated line: 9 fields
        served.replace("\tAGENT\t", "\tLOST\t"),  # an outcome the documentation does not list
        "\t".join([*served.split("\t")[:5], "99013", *served.split("\t")[6:]]),  # a 5-digit date
    ]
    body = [*lines[:50], bad[0], "", *lines[50:200], bad[1], served.replace("\t", "  "), bad[2], *lines[200:]]
    assert phantom in body
    path = tmp_path_factory.mktemp("bank") / "hostile.txt"
    path.write_text("\n".join(body) + "\n", encoding="latin-1")
    return path


def test_every_line_of_a_hostile_log_is_accounted(hostile: Path, tmp_path: Path) -> None:
    raw = _raw_counts(hostile)
    assert (raw["bad"], raw["blank"]) == (3, 2)  # the three defects; the header and the empty line
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(
        app,
        ["replay", str(hostile), "--format", "anonymous-bank", "--to", str(out), "--rejects", str(rejects)],
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"{raw['read']:,} lines read" in text
    assert f"skipped: PHANTOM: not a customer call │ {raw['phantom']} │" in text
    assert "corrected: space-separated fields re-split: 1" in text
    written = [json.loads(line) for line in rejects.read_text().splitlines()]
    # lines 51 (truncated: after the header and 49 calls), 203 (outcome LOST) and 205 (date 99013): numbered as in the file, header = line 1
    assert [(r["line"], r["reason"]) for r in written] == [
        (51, "9 tab-separated fields, expected 17"),
        (203, "unknown outcome 'LOST'"),
        (205, "date '99013' is not YYMMDD"),
    ]
    assert all(
        r["text"] == hostile.read_text(encoding="latin-1").splitlines()[r["line"] - 1] for r in written
    )
    offered = sum(1 for line in out.read_text().splitlines() if '"contact.offered"' in line)
    assert offered == raw["customer"]  # every customer call of the file, the repaired line among them
    assert "rejected: 9 tab-separated fields, expected 17 │ 1 │ 51" in text


def test_strict_exits_non_zero_on_any_reject(hostile: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["replay", str(hostile), "--format", "anonymous-bank", "--to", str(tmp_path / "o.jsonl"), "--strict"],
    )
    assert result.exit_code == 1
    assert "3 rejected lines (--strict)" in result.output


def test_an_input_every_line_of_which_is_rejected_exits_non_zero(tmp_path: Path) -> None:
    path = tmp_path / "saved-response.json"
    path.write_text('{\n  "conversations": [\n    {"conversationId": "c1"}\n  ]\n}\n')  # not JSON lines
    result = CliRunner().invoke(app, ["replay", str(path), "--to", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1, result.output
    assert "5 rejected lines (every line holding data was rejected)" in result.output
    assert (tmp_path / "o.jsonl").read_text() == ""


def test_an_empty_input_exits_non_zero(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    result = CliRunner().invoke(app, ["replay", str(path), "--to", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1
    assert "holds no line to replay" in result.output


def test_the_readme_replay_example_runs_as_written() -> None:
    """The README's example, word for word, and the accounting it states."""
    import re
    import shlex

    root = Path(__file__).resolve().parents[2]
    readme = " ".join((root / "README.md").read_text().split())
    command = re.search(r"For example `acdscope (replay [^`]+)`", readme)
    assert command is not None
    args = shlex.split(command.group(1))
    result = CliRunner().invoke(app, [*args[:1], *(str(root / a) if "/" in a else a for a in args[1:])])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "tcd_export.csv (ucce-tcd): 32 lines read" in text
    assert "accepted -> 78 events" in text
    assert "contact.offered 18" in text
    rejects = [
        json.loads(line)["line"] for line in (root / ".local" / "ucce-rejects.jsonl").read_text().splitlines()
    ]
    assert rejects == [10, 31, 32]


def test_the_format_help_names_every_format() -> None:
    from acdscope.cli import _REPLAY_FORMATS
    from producers.replay import FORMATS

    assert _REPLAY_FORMATS.split(" | ") == list(FORMATS)
