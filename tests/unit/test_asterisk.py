"""Asterisk queue_log to canonical events, on a small hand-written log whose every number is counted by hand."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

from producers.feeds.asterisk import DOCUMENTED
from producers.feeds.asterisk import QueueLogAdapter
from producers.feeds.asterisk import QueueMap
from producers.feeds.asterisk import Reject
from producers.feeds.asterisk import read
from producers.feeds.report import FeedOptions
from producers.feeds.report import FeedReport
from streams.events import ContactAnswered
from streams.events import ContactEnded
from streams.events import ContactOffered
from streams.events import ContactQueued
from streams.events import ContactTransferred
from streams.events import Event
from streams.events import decode_event
from streams.events import encode_event
from tests.support.engine import contact_rows
from tests.support.raw_asterisk import count

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "feeds" / "asterisk_queue_log.txt"
QUEUES = {
    "support": QueueMap(source="in-house", call_type="support"),
    "bpo_support": QueueMap(source="vendor-a", call_type="support"),
    "support:overflow": QueueMap(source="vendor-a"),
}


def adapt() -> tuple[list, list[Reject], QueueLogAdapter]:
    adapter = QueueLogAdapter(tenant="pbx", queues=QUEUES)
    items = list(adapter.adapt(FIXTURE.read_text().splitlines()))
    events = [item for item in items if not isinstance(item, Reject)]
    rejects = [item for item in items if isinstance(item, Reject)]
    return events, rejects, adapter


def test_counts_by_hand() -> None:
    events, rejects, adapter = adapt()
    assert Counter(event.type for event in events) == Counter(
        {
            "contact.offered": 3,  # three calls (the overflowed one is one customer call)
            "contact.queued": 4,  # ... in four queue legs
            "contact.answered": 2,
            "contact.ended": 2,
            "contact.abandoned": 1,
            "contact.overflowed": 1,
            "agent.login": 2,
            "agent.ready": 3,  # two log-ins and one unpause
            "agent.not_ready": 1,
            "agent.logout": 2,
        }
    )
    assert adapter.report.skipped == Counter(
        {"not a call event: QUEUESTART": 1, "no canonical event: RINGNOANSWER": 1}
    )
    assert adapter.report.observed == Counter({"ring_no_answer": 1, "ring_no_answer_ms": 15_000})
    # Line 16 is not queue_log; line 17 connects a call that never queued: both rejected with their line.
    assert [(reject.line, reject.reason.split(" ")[0]) for reject in rejects] == [(16, "1"), (17, "CONNECT")]
    assert adapter.report.rejected == 2
    # 20 lines: 16 made events, 2 skipped, 2 rejected, none blank.
    assert (adapter.report.read, adapter.report.accepted, adapter.report.blank) == (20, 16, 0)
    assert adapter.report.unaccounted == 0
    assert all(decode_event(encode_event(event)) == event for event in events)


def test_the_overflowed_call_keeps_one_initial_contact_and_its_total_wait() -> None:
    events, _, _ = adapt()
    overflow_call = [
        event for event in events if getattr(event, "initial_contact_id", "") == "pbx-1767603800.4"
    ]
    answered = next(event for event in overflow_call if event.type == "contact.answered")
    assert answered.source == "vendor-a"
    assert answered.wait_ms == 10_000  # in the vendor queue
    assert answered.total_wait_ms == 40_000  # 30 s in-house + 10 s at the vendor
    overflowed = next(event for event in overflow_call if event.type == "contact.overflowed")
    assert (overflowed.to_source, overflowed.wait_ms) == ("vendor-a", 30_000)


def test_the_engine_counts_the_log() -> None:
    events, _, _ = adapt()
    rows = contact_rows(events, "pbx")
    (overflow,) = rows["overflow_interval"]
    assert (overflow.arrived, overflow.overflowed, overflow.e2e_answered, overflow.e2e_abandoned) == (
        3,
        1,
        2,
        1,
    )
    quality = {row.source: row for row in rows["quality_interval"]}
    assert (quality["in-house"].offered, quality["in-house"].answered, quality["in-house"].abandoned) == (
        3,
        1,
        1,
    )
    assert quality["in-house"].overflowed_out == 1
    assert (quality["vendor-a"].offered, quality["vendor-a"].answered, quality["vendor-a"].talk_ms) == (
        1,
        1,
        300_000,
    )


# --- the full log: every documented event, against an independent reader ------------------------------------

FULL = FIXTURE.parent / "asterisk" / "queue_log_full.txt"
FULL_QUEUES = {
    "support": QueueMap(source="in-house", call_type="support"),
    "bpo_support": QueueMap(source="vendor-a", call_type="support"),
    "sales": QueueMap(source="in-house", call_type="sales"),
    "support:overflow": QueueMap(source="vendor-a"),
}
# What each reject reason says is wrong, in the independent reader's words.
REASONS = {
    "fields, expected at least 5": "short",
    "is not an integer epoch": "time",
    "that never entered a queue": "no queue entry",
    "is not a number": "not a number",
    "is not a documented queue_log event": "unknown event",
    "without an agent": "no agent",
    "without a call id": "no call id",
}
# docs.asterisk.org "Queue Logs", app_queue.c's pause events, Wazo's and FreePBX's dialplan events.
DOCUMENTED_EVENTS = [
    "ABANDON",
    "ADDMEMBER",
    "AGENTDUMP",
    "AGENTLOGIN",
    "AGENTCALLBACKLOGIN",
    "AGENTLOGOFF",
    "AGENTCALLBACKLOGOFF",
    "ATTENDEDTRANSFER",
    "BLINDTRANSFER",
    "COMPLETEAGENT",
    "COMPLETECALLER",
    "CONFIGRELOAD",
    "CONNECT",
    "DID",
    "ENTERQUEUE",
    "EXITEMPTY",
    "EXITWITHKEY",
    "EXITWITHTIMEOUT",
    "INFO",
    "QUEUESTART",
    "REMOVEMEMBER",
    "RINGNOANSWER",
    "RINGCANCELED",
    "SYSCOMPAT",
    "TRANSFER",
    "PAUSE",
    "PAUSEALL",
    "UNPAUSE",
    "UNPAUSEALL",
    "FULL",
    "JOINEMPTY",
    "LEAVEEMPTY",
    "JOINUNAVAIL",
    "LEAVEUNAVAIL",
    "CLOSED",
    "DIVERT_CA_RATIO",
    "DIVERT_HOLDTIME",
]


def read_full(caller_key: bytes = b"k") -> tuple[list[Event], FeedReport]:
    report = FeedReport("asterisk")
    events = list(read(FULL, FeedOptions(tenant="pbx", caller_key=caller_key), report))
    return events, report


def reason_word(reason: str) -> str:
    return next(word for text, word in REASONS.items() if text in reason)


def test_the_full_log_is_what_an_independent_reading_of_it_counts() -> None:
    events, report = read_full()
    raw = count(FULL)
    types = Counter(event.type for event in events)
    assert (report.read, report.blank) == (raw.lines, raw.blank) == (81, 1)
    assert report.unaccounted == 0
    assert types["contact.offered"] == raw.offered == 20
    assert types["contact.queued"] == raw.queued == 17
    assert types["contact.answered"] == raw.answered == 7
    assert types["contact.abandoned"] == raw.abandoned == 4
    assert types["contact.overflowed"] == raw.overflowed == 2
    assert sum(e.wait_ms for e in events if isinstance(e, ContactAnswered)) == raw.answered_hold_ms == 80_000
    assert sum(e.talk_ms for e in events if isinstance(e, ContactEnded)) == raw.talk_ms == 940_000
    skipped_by_event = Counter(kind.rsplit(": ", 1)[1] for kind in report.skipped.elements())
    assert skipped_by_event == raw.skipped
    assert {r.line: reason_word(r.reason) for r in report.rejects} == raw.rejected


def test_the_full_log_by_hand() -> None:
    events, report = read_full()
    assert (
        Counter(event.type for event in events)
        == Counter(
            {
                # 14 calls first entered a queue (A B C D E L M N O P Q R S, and the one whose CONNECT is
                # rejected) and 6 were first refused at a door (F FULL, G JOINEMPTY, H JOINUNAVAIL, I CLOSED,
                # J DIVERT_CA_RATIO, K DIVERT_HOLDTIME, then queued in sales): 20 customer calls, offered once each.
                "contact.offered": 20,
                # 17 ENTERQUEUE lines read: C's vendor leg, K's sales leg and N's leg after the blind transfer are
                # legs of calls offered already.
                "contact.queued": 17,
                "contact.answered": 7,  # A 20 s, C 10 s (vendor), N 5 s + 5 s (after the transfer), O 12, P 8, Q 20
                "contact.ended": 7,  # talk A 180 s, C 300, N 60 + 120, O 100, P 60 (968 - 908: derived), Q 120
                "contact.abandoned": 4,  # B 30 s, K 20 s, R 15 s, and the call whose CONNECT was rejected, 25 s
                "contact.overflowed": 2,  # C after 30 s, S after 60 s (an older EXITWITHTIMEOUT: from the times)
                "contact.transferred": 3,  # N blind, O attended, P TRANSFER
                "agent.login": 4,  # SIP/101 (once, for two queues), SIP/102, Agent/2001, Local/bpo-7
                "agent.ready": 5,  # four log-ins and SIP/101's UNPAUSEALL
                # SIP/101's PAUSEALL (no reason: "paused"), then its first PAUSE gives the reason, lunch
                "agent.not_ready": 2,
                "agent.logout": 4,  # SIP/101 when it leaves its last queue, SIP/102, Agent/2001, Local/bpo-7
            }
        )
    )
    # 81 lines = 1 blank + 54 accepted + 17 skipped + 9 rejected
    assert (report.read, report.blank, report.accepted, sum(report.skipped.values()), report.rejected) == (
        81,
        1,
        54,
        17,
        9,
    )
    assert report.skipped == Counter(
        {
            "not a call event: QUEUESTART": 1,
            "not a call event: CONFIGRELOAD": 1,
            "not a call event: DID": 1,
            "not a call event: INFO": 1,
            "no canonical event: RINGNOANSWER": 1,
            "no canonical event: RINGCANCELED": 1,
            "no canonical event: AGENTDUMP": 1,
            "no canonical event: SYSCOMPAT": 1,
            "no canonical event: EXITEMPTY": 1,
            "no canonical event: LEAVEEMPTY": 1,
            "no canonical event: LEAVEUNAVAIL": 1,
            "no canonical event: EXITWITHKEY": 1,
            "agent state unchanged: ADDMEMBER": 1,  # SIP/101's second queue
            "agent state unchanged: PAUSE": 1,  # the second queue's PAUSE, lunch again
            "agent state unchanged: UNPAUSE": 2,
            "agent state unchanged: REMOVEMEMBER": 1,  # leaving support, still in sales
        }
    )
    assert report.observed == Counter(
        {
            "ring_no_answer": 1,
            "ring_no_answer_ms": 15_000,
            "ring_canceled": 1,
            "agent_dump": 1,
            "dropped_incompatible": 1,
            "left_no_agents": 3,  # D EXITEMPTY, L LEAVEUNAVAIL, M LEAVEEMPTY
            "exit_with_key": 1,
            "refused_full": 1,
            "refused_joinempty": 1,
            "refused_joinunavail": 1,
            "refused_closed": 1,
            "refused_divert_ca_ratio": 1,
            "refused_divert_holdtime": 1,
        }
    )
    assert report.corrections == Counter(
        {
            "TRANSFER calltime missing: taken from the log's times": 1,
            "EXITWITHTIMEOUT waittime missing: taken from the log's times": 1,
        }
    )
    assert [(r.line, r.reason) for r in report.rejects] == [
        (65, "1 fields, expected at least 5 (time|callid|queue|agent|event)"),
        (66, "time '2026-01-05 09:21:40.000000' is not an integer epoch"),
        (67, "time '1767604900.5' is not an integer epoch"),
        (68, "CONNECT for call '1767604910.38' that never entered a queue"),
        (70, "CONNECT holdtime 'abc' is not a number"),
        (72, "'WOBBLE' is not a documented queue_log event"),
        (73, "ADDMEMBER without an agent"),
        (74, "ENTERQUEUE without a call id"),
        (81, "3 fields, expected at least 5 (time|callid|queue|agent|event)"),  # the partial last line
    ]
    assert report.rejects[0].text == "this line is not a queue_log line"
    assert all(decode_event(encode_event(event)) == event for event in events)


def test_every_documented_event_is_in_the_log_and_mapped_or_skipped() -> None:
    assert set(DOCUMENTED_EVENTS) <= set(DOCUMENTED)
    adapter = QueueLogAdapter(tenant="pbx", queues=FULL_QUEUES)
    outcome: dict[str, set[str]] = {}
    for number, text in enumerate(FULL.read_text().splitlines(), start=1):
        skipped_before = sum(adapter.report.skipped.values())
        items = list(adapter.line(number, text)) if text.strip() else []
        fields = text.split("|")
        if len(fields) < 5 or any(isinstance(item, Reject) for item in items):
            continue
        if items:
            outcome.setdefault(fields[4], set()).update(item.type for item in items)
        else:
            assert sum(adapter.report.skipped.values()) == skipped_before + 1, text
            outcome.setdefault(fields[4], set()).add("skipped")
    for event in DOCUMENTED:
        assert outcome.get(event), f"{event} is in no line the adapter read"
    # The events that carry a fact map to the canonical event that holds it.
    assert outcome["ENTERQUEUE"] == {"contact.offered", "contact.queued"}
    assert outcome["CONNECT"] == {"contact.answered"}
    assert outcome["ABANDON"] == {"contact.abandoned"}
    assert outcome["EXITWITHTIMEOUT"] == {"contact.overflowed"}
    assert outcome["COMPLETEAGENT"] == outcome["COMPLETECALLER"] == {"contact.ended"}
    for transfer in ("TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"):
        assert outcome[transfer] == {"contact.transferred", "contact.ended"}
    for refused in ("FULL", "JOINEMPTY", "JOINUNAVAIL", "CLOSED", "DIVERT_CA_RATIO", "DIVERT_HOLDTIME"):
        assert outcome[refused] == {"contact.offered"}
    assert outcome["PAUSEALL"] == {"agent.not_ready"}
    assert outcome["PAUSE"] == {"agent.not_ready", "skipped"}
    assert outcome["UNPAUSEALL"] == {"agent.ready"}
    assert outcome["ADDMEMBER"] == {"agent.login", "agent.ready", "skipped"}
    for left in ("EXITEMPTY", "LEAVEEMPTY", "LEAVEUNAVAIL", "EXITWITHKEY", "RINGNOANSWER", "RINGCANCELED"):
        assert outcome[left] == {"skipped"}


def test_door_refusals_transfers_and_agent_state() -> None:
    events, _ = read_full()
    by_contact: dict[str, list[Event]] = {}
    for event in events:
        by_contact.setdefault(getattr(event, "contact_id", ""), []).append(event)
    # FULL: offered, never queued, no outcome.
    assert [e.type for e in by_contact["pbx-1767604100.17"]] == ["contact.offered"]
    # DIVERT_HOLDTIME then the sales queue: one offered (at the door), the queue leg is the same contact.
    assert [e.type for e in by_contact["pbx-1767604150.22"]] == [
        "contact.offered",
        "contact.queued",
        "contact.abandoned",
    ]
    # The blind transfer to the sales queue is internal; its next leg is a transfer in, answered after 5 s there.
    transfers = {e.contact_id: (e.kind, e.to_queue) for e in events if isinstance(e, ContactTransferred)}
    assert transfers == {
        "pbx-1767604300.24": ("internal", "sales"),
        "pbx-1767604400.27": ("external", None),  # ATTENDEDTRANSFER names no destination
        "pbx-1767604500.31": ("external", None),  # TRANSFER to extension 2000
    }
    second = [e for e in by_contact["pbx-1767604300.24.2"] if isinstance(e, ContactQueued)]
    assert [(q.queue, q.transferred_in) for q in second] == [("sales", True)]
    # C's vendor answer: 10 s there, 40 s since it first queued.
    answered = next(e for e in by_contact["pbx-1767603800.13.2"] if isinstance(e, ContactAnswered))
    assert (answered.wait_ms, answered.total_wait_ms) == (10_000, 40_000)
    # SIP/101: logged in once for two queues, one lunch, back, out when it left its last queue.
    states = [(e.type, e.ts.strftime("%H:%M:%S"), getattr(e, "reason", "")) for e in events
              if getattr(e, "agent_id", "") == "SIP/101" and e.type.startswith("agent.")]  # fmt: skip
    assert states == [
        ("agent.login", "09:00:00", ""),
        ("agent.ready", "09:00:00", ""),
        ("agent.not_ready", "09:05:00", "paused"),  # PAUSEALL: app_queue writes it without the reason
        ("agent.not_ready", "09:05:00", "lunch"),  # ... which the PAUSE of its first queue carries
        ("agent.ready", "09:16:40", ""),  # UNPAUSEALL; the UNPAUSE lines repeat it
        ("agent.logout", "11:00:00", ""),
    ]
    # Callers are hashed, never kept: every queued call's offered has a hash, door refusals have no number.
    hashes = {e.contact_id: e.caller_hash for e in events if isinstance(e, ContactOffered)}
    assert hashes["pbx-1767603660.10"] is not None
    assert hashes["pbx-1767604100.17"] is None
    assert "+15550100" not in "".join(encode_event(e).decode() for e in events)


def test_read_streams_in_time_order() -> None:
    report = FeedReport("asterisk")
    stream = read(FULL, FeedOptions(tenant="pbx"), report)
    first = next(stream)
    assert first.type == "agent.login"
    assert report.read == 2  # QUEUESTART skipped, the first ADDMEMBER read: the rest of the file is not
    rest = list(stream)
    assert [e.ts for e in [first, *rest]] == sorted(e.ts for e in [first, *rest])
    assert report.read == 81


def test_the_engine_counts_the_full_log() -> None:
    adapter = QueueLogAdapter(tenant="pbx", queues=FULL_QUEUES)
    events = [e for e in adapter.adapt(FULL.read_text().splitlines()) if not isinstance(e, Reject)]
    rows = contact_rows(events, "pbx")
    quality: dict[tuple[str, str], Counter[str]] = {}
    for row in rows["quality_interval"]:
        figures = ("offered", "answered", "abandoned", "transferred_in", "overflowed_out", "talk_ms")
        quality.setdefault((row.source, row.call_type), Counter()).update(
            {name: getattr(row, name) for name in figures}
        )
    # support in-house: 11 legs queued (A B C E L N O P Q R and the call whose CONNECT was rejected), answered
    # A N O P Q, abandoned B R and that call; EXITWITHKEY (E) and LEAVEUNAVAIL (L) stay offered without outcome.
    assert quality[("in-house", "support")]["offered"] == 11
    assert quality[("in-house", "support")]["answered"] == 5
    assert quality[("in-house", "support")]["abandoned"] == 3
    assert quality[("in-house", "support")]["talk_ms"] == 520_000  # 180 + 60 + 100 + 60 + 120 s
    # sales: D K M S offered (N's transferred leg is a transfer in, not offered), K abandoned, S overflowed.
    sales = quality[("in-house", "sales")]
    assert (sales["offered"], sales["transferred_in"], sales["abandoned"], sales["overflowed_out"]) == (
        4,
        1,
        1,
        1,
    )
    assert (quality[("vendor-a", "support")]["offered"], quality[("vendor-a", "support")]["answered"]) == (
        1,
        1,
    )
    arrived = Counter()
    for overflow in rows["overflow_interval"]:
        arrived[overflow.call_type] += overflow.arrived
    # Every customer call arrives once, the six refused at a door with them: support 15 (A B C E F I J K L N O
    # P Q R and the rejected CONNECT's call), sales 5 (D G H M S).
    assert arrived == Counter({"support": 15, "sales": 5})


def test_event_ids_are_those_replays_already_hold() -> None:
    # uuid5 of "tenant/line/role" in the adapter's namespace, as before the id was hashed from a prefix: a log
    # replayed again de-duplicates against what the earlier replays sent.
    events, _, _ = adapt()
    namespace = uuid.UUID("2b8f7a40-95f2-4c3e-8d31-6b9a1e0c4f12")
    login = next(event for event in events if event.type == "agent.login")  # line 2, SIP/101's ADDMEMBER
    assert login.event_id == uuid.uuid5(namespace, "pbx/2/login")
    assert len({event.event_id for event in events}) == len(events)
