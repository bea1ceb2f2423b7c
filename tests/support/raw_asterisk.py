"""An Asterisk queue_log counted straight from its text, by rules written apart from the adapter's (stdlib only,
nothing of ours imported), so a test can hold `producers.feeds.asterisk` to figures reached another way.

The rules, as an ACD report reads a queue log: a customer call is a call id that entered a queue or was refused
at a queue's door; answered, abandoned and overflowed are its CONNECT, ABANDON and EXITWITHTIMEOUT lines; the
hold time of the answered is CONNECT's first field; talk time is the call time of COMPLETEAGENT/COMPLETECALLER
(second field) and of the transfers (fourth), or, when an older Asterisk leaves it out, the seconds since the
CONNECT. A line is rejected when it cannot be read as a queue log line, and skipped when it is read and holds
nothing a report counts (the repeats of an agent's state among them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

AGENT_IN = {"ADDMEMBER", "AGENTLOGIN", "AGENTCALLBACKLOGIN"}
AGENT_OUT = {"REMOVEMEMBER", "AGENTLOGOFF", "AGENTCALLBACKLOGOFF"}
PAUSED = {"PAUSE", "PAUSEALL"}
UNPAUSED = {"UNPAUSE", "UNPAUSEALL"}
DOOR = {"FULL", "JOINEMPTY", "JOINUNAVAIL", "CLOSED", "DIVERT_CA_RATIO", "DIVERT_HOLDTIME"}
NOTHING = {"QUEUESTART", "CONFIGRELOAD", "DID", "INFO"}
ATTEMPT = {"RINGNOANSWER", "RINGCANCELED", "AGENTDUMP", "SYSCOMPAT"}
UNANSWERED_EXIT = {"EXITEMPTY", "LEAVEEMPTY", "LEAVEUNAVAIL", "EXITWITHKEY"}
ENDS = {"COMPLETEAGENT": 1, "COMPLETECALLER": 1, "TRANSFER": 3, "BLINDTRANSFER": 3, "ATTENDEDTRANSFER": 3}
IN_QUEUE = ATTEMPT | UNANSWERED_EXIT | set(ENDS) | {"CONNECT", "ABANDON", "EXITWITHTIMEOUT"}
KNOWN = AGENT_IN | AGENT_OUT | PAUSED | UNPAUSED | DOOR | NOTHING | IN_QUEUE | {"ENTERQUEUE"}


@dataclass
class RawCounts:
    lines: int = 0
    blank: int = 0
    offered: int = 0  # customer calls
    queued: int = 0  # queue entries (legs)
    answered: int = 0
    abandoned: int = 0
    overflowed: int = 0  # timeouts
    answered_hold_ms: int = 0
    talk_ms: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # by event name
    rejected: dict[int, str] = field(default_factory=dict)  # line number -> what is wrong with it


def count(path: Path) -> RawCounts:
    raw = path.read_bytes().decode("utf-8", errors="replace")
    texts = raw.split("\n")
    if texts and texts[-1] == "":
        texts.pop()  # the file ends with a line end
    out = RawCounts(lines=len(texts))
    seen: set[str] = set()  # call ids that are customer calls
    where: dict[str, str] = {}  # call id -> "waiting" | "talking" | "gone"
    connected_at: dict[str, int] = {}
    queues: dict[str, set[str]] = {}  # agent -> queues (and "*" for an agent log-in)
    ready: dict[str, bool | None] = {}
    why: dict[str, str] = {}  # a paused agent's reason
    for number, text in enumerate(texts, start=1):
        text = text.rstrip("\r")
        if not text.strip():
            out.blank += 1
            continue
        f = [part.strip() for part in text.split("|")]
        if len(f) < 5:
            out.rejected[number] = "short"
            continue
        if not f[0].isdigit():
            out.rejected[number] = "time"
            continue
        at, call, queue, agent, event, data = int(f[0]), f[1], f[2], f[3], f[4], f[5:]
        if event not in KNOWN:
            out.rejected[number] = "unknown event"
        elif event in NOTHING:
            out.skipped[event] += 1
        elif event in AGENT_IN | AGENT_OUT | PAUSED | UNPAUSED:
            if agent in ("", "NONE"):
                out.rejected[number] = "no agent"
                continue
            unseen = agent not in queues
            mine = queues.setdefault(agent, set())
            changed = False
            if event in AGENT_IN:
                changed = not mine
                mine.add(queue if event == "ADDMEMBER" and queue not in ("", "NONE") else "*")
                ready[agent] = True if changed else ready.get(agent)
            elif event in AGENT_OUT:
                before = bool(mine) or unseen or ready.get(agent) is not None
                if event == "REMOVEMEMBER":
                    mine.discard(queue)
                else:
                    mine.clear()
                changed = before and not mine
                if changed:
                    ready[agent] = None
            elif event in UNPAUSED:
                changed = ready.get(agent) is not True
                ready[agent] = True
            else:  # a pause, or a new reason for one
                reason = data[0] if data else ""
                changed = ready.get(agent) is not False or (reason != "" and reason != why.get(agent))
                if changed:
                    ready[agent], why[agent] = False, reason or "paused"
            if not changed:
                out.skipped[event] += 1
        elif call in ("", "NONE"):
            out.rejected[number] = "no call id"
        elif event == "ENTERQUEUE":
            if queue in ("", "NONE"):
                out.rejected[number] = "no queue"
                continue
            if where.get(call) in ("waiting", "talking"):
                out.rejected[number] = "already queued"
                continue
            if call not in seen:
                out.offered += 1
                seen.add(call)
            out.queued += 1
            where[call] = "waiting"
        elif event in DOOR:
            if call in seen:
                out.skipped[event] += 1
            else:
                seen.add(call)
                out.offered += 1
                where[call] = "gone"
        elif call not in where:
            out.rejected[number] = "no queue entry"
        elif where[call] == "gone":
            out.rejected[number] = "leg ended"
        elif where[call] == "talking" and event not in ENDS and event not in ATTEMPT:
            out.rejected[number] = "already connected"
        elif where[call] == "waiting" and event in ENDS:
            out.rejected[number] = "never connected"
        elif event == "CONNECT" and agent in ("", "NONE"):
            out.rejected[number] = "no agent"
        elif not all(value.isdigit() for value in _numbers(event, data)):
            out.rejected[number] = "not a number"
        elif event == "CONNECT":
            out.answered += 1
            out.answered_hold_ms += int(data[0]) * 1000
            where[call] = "talking"
            connected_at[call] = at
        elif event in ENDS:
            index = ENDS[event]
            seconds = int(data[index]) if len(data) > index and data[index] else at - connected_at[call]
            out.talk_ms += seconds * 1000
            where[call] = "gone"
        elif event in ATTEMPT:
            out.skipped[event] += 1
        else:  # ABANDON, EXITWITHTIMEOUT, and the exits no report counts as either
            out.abandoned += event == "ABANDON"
            out.overflowed += event == "EXITWITHTIMEOUT"
            if event in UNANSWERED_EXIT:
                out.skipped[event] += 1
            where[call] = "gone"
    return out


def _numbers(event: str, data: list[str]) -> list[str]:
    """The fields of `event` that hold a count of seconds (or ms), where the line has them."""
    positions = {"CONNECT": [0], "RINGNOANSWER": [0], "ABANDON": [2], "EXITWITHTIMEOUT": [2], "EXITEMPTY": [2],
                 "LEAVEEMPTY": [2], "LEAVEUNAVAIL": [2],
                 "EXITWITHKEY": [3], **{name: [index] for name, index in ENDS.items()}}  # fmt: skip
    values = [data[i] for i in positions.get(event, []) if i < len(data) and data[i]]
    if event == "CONNECT" and not values:
        return ["missing"]  # the wait of an answer is never left out
    return values
