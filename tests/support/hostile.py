"""Hostile records for the running worker: a seeded mix of what broken or malicious producers send, among a
scenario's good events, which themselves arrive partly out of order and partly twice.

Deterministic (one `random.Random(seed)`), so a failing record is sent again by the next run. Every hostile
record is checked here against the premise the worker test relies on: the decoder refuses it, or it decodes
and the worker must refuse it for what it says (a time far in the past or future, the wrong topic).
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from streams.edge.records import decode_caller_contacts
from streams.events import TOPIC_AGENT_EVENTS
from streams.events import TOPIC_CONTACT_EVENTS
from streams.events import TOPIC_VENDOR_REPORTS
from streams.events import EventDecodeError
from streams.events import decode_event

CALLERS = "callers"  # the worker's own caller-outcome topic: malformed records only (see `_caller_topic`)
EVENT_TOPICS = (TOPIC_CONTACT_EVENTS, TOPIC_AGENT_EVENTS, TOPIC_VENDOR_REPORTS)
# Not dead letters: good events in order, held back behind later events of other keys, or sent twice.
GOOD_KINDS = frozenset({"good", "reordered", "duplicate"})
# How many of each hostile kind in 10,000; `mix` scales them to the count asked for.
KINDS: dict[str, int] = {
    "truncated": 1500,
    "wrong_type": 1500,
    "huge_100kB": 120,
    "long_string": 80,
    "unknown_type": 900,
    "bad_timestamp": 800,
    "far_past": 800,
    "far_future": 800,
    "non_utf8": 900,
    "empty": 400,
    "tombstone": 200,
    "not_an_object": 500,
    "deep_nesting": 100,
    "misrouted": 800,
    "caller_topic": 600,
}
Good = tuple[str, bytes, bytes]  # (contract topic, key, value)
_HOLD_BACK = timedelta(minutes=2)


@dataclass(frozen=True)
class Outgoing:
    topic: str  # a contract topic name or CALLERS; the run renames it
    key: bytes | None
    value: bytes | None
    partition: int | None  # None: by key, with the producer's partitioner, as good events go
    kind: str


def mix(good: Sequence[Good], count: int, seed: int, partitions: int) -> list[Outgoing]:
    """The good events with `count` hostile records spread among them, in sending order.

    About 10 % of good events are held back behind up to 40 later ones, never behind a later event of their
    own key (the contract keeps a key's events in order, not a topic's) nor behind one more than 2 minutes
    younger: out of order within the allowed lateness (5 min), which the engines count exactly. Later than
    that, adherence takes a state at the time already accounted (`streams/engine/adherence.py`), by design.
    3 % are sent again within the next 20. A `far_past` record goes after the good event it was made from,
    which shares its key: the engine judges "far in the past" against what its partition has seen of that
    tenant, and has seen it then."""
    rng = random.Random(seed)
    times = [datetime.fromisoformat(json.loads(value)["ts"]) for _, _, value in good]
    planned: list[tuple[float, int, Outgoing]] = []
    at_of: list[float] = []
    last_of_key: dict[tuple[str, bytes], float] = {}
    for i, (topic, key, value) in enumerate(good):
        behind = 0
        while i + behind + 1 < len(good) and behind < 40 and times[i + behind + 1] - times[i] <= _HOLD_BACK:
            behind += 1
        delay = rng.uniform(1, behind) if behind and rng.random() < 0.10 else 0.0
        at = max(i + delay, last_of_key.get((topic, key), -1.0) + 1e-6)
        last_of_key[(topic, key)] = at
        at_of.append(at)
        planned.append(
            (at, len(planned), Outgoing(topic, key, value, None, "reordered" if delay else "good"))
        )
        if rng.random() < 0.03:
            again = Outgoing(topic, key, value, None, "duplicate")
            planned.append((at + rng.uniform(0, 20), len(planned), again))
    scale = count / sum(KINDS.values())
    kinds = [kind for kind, n in KINDS.items() for _ in range(round(n * scale))]
    kinds = (kinds + ["truncated"] * count)[:count]
    rng.shuffle(kinds)
    for kind in kinds:
        source = rng.randrange(len(good))
        record = _MAKERS[kind](rng, good[source], partitions)
        earliest = at_of[source] + 1e-6 if kind == "far_past" else 0.0
        planned.append((rng.uniform(earliest, len(good) + 40), len(planned), record))
    planned.sort(key=lambda item: (item[0], item[1]))
    return [record for _, _, record in planned]


def census(records: Sequence[Outgoing]) -> Counter[str]:
    return Counter(record.kind for record in records)


def _decodes(value: bytes) -> bool:
    try:
        decode_event(value)
    except EventDecodeError:
        return False
    return True


def _refused(make: Callable[[], bytes]) -> bytes:
    """A value the decoder refuses: some mutations are still valid by chance (an extra nesting level the
    model happens to allow, a wrong type pydantic coerces), so draw until one is refused."""
    for _ in range(50):
        value = make()
        if not _decodes(value):
            return value
    raise AssertionError("50 mutations in a row decoded: the mutation does not make the event invalid")


def _key(rng: random.Random, source: Good) -> bytes | None:
    return rng.choice([None, source[1], b"", bytes(rng.randrange(128, 256) for _ in range(8)), b"\x00" * 3])


def _new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _truncated(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    value = source[2][: rng.randrange(1, len(source[2]))]
    assert not _decodes(value)
    return Outgoing(source[0], _key(rng, source), value, rng.randrange(partitions), "truncated")


_WRONG: list[tuple[str, Any]] = [
    ("event_id", 42), ("event_id", "not-a-uuid"), ("event_id", None), ("event_id", []),
    ("tenant", ""), ("tenant", 7), ("tenant", {"a": 1}), ("tenant", "x" * 65),
    ("schema_version", 2), ("schema_version", "one"), ("type", None), ("type", 3),
    ("ts", []), ("ts", {}), ("ts", "2026-01-05T08:00:00+25:00"), ("unexpected_field", 1),
]  # fmt: skip


def _wrong_type(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    data = json.loads(source[2])

    def make() -> bytes:
        name, value = rng.choice(
            [*_WRONG, *((field, rng.choice([[1], {"x": None}, -1.5, True])) for field in data)]
        )
        return json.dumps({**data, name: value}).encode()

    return Outgoing(source[0], _key(rng, source), _refused(make), rng.randrange(partitions), "wrong_type")


def _string_field(rng: random.Random, data: dict[str, Any]) -> str:
    return rng.choice([name for name, value in data.items() if isinstance(value, str) and name != "type"])


def _huge(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    data = json.loads(source[2])
    if rng.random() < 0.5:
        value = json.dumps({**data, _string_field(rng, data): "x" * 100_000}).encode()
    else:
        value = bytes(rng.randrange(32, 127) for _ in range(100_000))
    assert len(value) >= 100_000
    assert not _decodes(value)
    return Outgoing(source[0], _key(rng, source), value, rng.randrange(partitions), "huge_100kB")


def _long_string(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    # Under the 64 KiB payload limit, over every field's own limit.
    data = json.loads(source[2])
    value = json.dumps({**data, _string_field(rng, data): "y" * rng.randrange(1_000, 60_000)}).encode()
    assert not _decodes(value)
    return Outgoing(source[0], _key(rng, source), value, rng.randrange(partitions), "long_string")


def _unknown_type(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    data = json.loads(source[2])
    kind = rng.choice(["contact.teleported", "agent.levitating", "vendor.bribe", "schedule.cancelled_forever",
                       "", "CONTACT.OFFERED", "contact", "contact.offered "])  # fmt: skip
    value = json.dumps({**data, "type": kind}).encode()
    assert not _decodes(value)
    return Outgoing(source[0], _key(rng, source), value, rng.randrange(partitions), "unknown_type")


def _bad_timestamp(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    data = json.loads(source[2])
    ts = rng.choice(["yesterday", "2026-13-45T99:00:00Z", "2026-01-05T08:00:00", "", "2026-01-05 08:00",
                     None, "10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", 1e300, "NaN"])  # fmt: skip
    value = json.dumps({**data, "ts": ts}).encode()
    assert not _decodes(value)
    return Outgoing(source[0], _key(rng, source), value, rng.randrange(partitions), "bad_timestamp")


def _far_past(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    ts = rng.choice(["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "1999-12-31T23:59:59.999Z",
                     "2025-12-31T00:00:00Z"])  # fmt: skip
    value = json.dumps({**json.loads(source[2]), "event_id": _new_id(rng), "ts": ts}).encode()
    assert _decodes(value)
    return Outgoing(source[0], source[1], value, None, "far_past")


def _far_future(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    ts = rng.choice(["9999-12-31T23:59:59.999Z", "2100-01-01T00:00:00Z", "2262-04-11T23:47:16Z",
                     "2036-01-05T08:00:00+01:00"])  # fmt: skip
    value = json.dumps({**json.loads(source[2]), "event_id": _new_id(rng), "ts": ts}).encode()
    assert _decodes(value)
    return Outgoing(source[0], source[1], value, None, "far_future")


def _non_utf8(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    if rng.random() < 0.5:
        value = b"\xff" + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
    else:  # valid JSON but for one string holding bytes that are no UTF-8
        value = source[2].replace(b'"tenant":"', b'"tenant":"\xc3\x28\xa0\xa1', 1)
    assert not _decodes(value)
    return Outgoing(source[0], _key(rng, source), value, rng.randrange(partitions), "non_utf8")


def _empty(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    return Outgoing(source[0], _key(rng, source), b"", rng.randrange(partitions), "empty")


def _tombstone(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    # Kafka's delete marker: a key and no value at all (kafka-python needs one of them).
    return Outgoing(source[0], source[1], None, rng.randrange(partitions), "tombstone")


def _not_an_object(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    value = rng.choice(
        [b"[]", b"null", b"1", b'"x"', b"true", b"{}", b"[1,2,3]", b'{"type":"contact.offered"}']
    )
    assert not _decodes(value)
    return Outgoing(source[0], _key(rng, source), value, rng.randrange(partitions), "not_an_object")


def _deep_nesting(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    depth = rng.choice([200, 1_000, 20_000])
    value = b'{"a":' * depth + b"1" + b"}" * depth if rng.random() < 0.5 else b"[" * depth + b"]" * depth
    assert not _decodes(value)
    return Outgoing(source[0], _key(rng, source), value, rng.randrange(partitions), "deep_nesting")


def _misrouted(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    # An exact copy of a good event, sent to a topic of another family.
    topic = rng.choice([topic for topic in EVENT_TOPICS if topic != source[0]])
    return Outgoing(topic, source[1], source[2], rng.randrange(partitions), "misrouted")


def _caller_topic(rng: random.Random, source: Good, partitions: int) -> Outgoing:
    """Malformed records on the worker's own caller-outcome topic. A well-formed outcome there would be
    counted (the topic is internal and trusted for content), so none is sent."""
    contact = {"tenant": "hostile", "caller_hash": "0" * 32, "initial_contact_id": "c", "arrived_ms": 1,
               "call_type": "billing", "handled_by": None}  # fmt: skip
    name = rng.choice(list(contact))
    value = rng.choice([
        b"[]", b"{}", b"null", b"[1]", b"", b"\xff\xfe",
        json.dumps([contact])[: rng.randrange(1, 40)].encode(),
        json.dumps([{**contact, name: rng.choice([[1], {"x": 1}, 1.5, "x" if name == "arrived_ms" else 7])}]).encode(),
        json.dumps([contact, {**contact, "arrived_ms": 2**62}]).encode(),
        json.dumps([{**contact, "surplus": 1}]).encode(),
    ])  # fmt: skip
    try:
        decode_caller_contacts(value)
    except ValueError:
        return Outgoing(CALLERS, _key(rng, source), value, rng.randrange(partitions), "caller_topic")
    raise AssertionError(f"a caller-topic record meant to be malformed decodes: {value[:200]!r}")


_MAKERS: dict[str, Callable[[random.Random, Good, int], Outgoing]] = {
    "truncated": _truncated,
    "wrong_type": _wrong_type,
    "huge_100kB": _huge,
    "long_string": _long_string,
    "unknown_type": _unknown_type,
    "bad_timestamp": _bad_timestamp,
    "far_past": _far_past,
    "far_future": _far_future,
    "non_utf8": _non_utf8,
    "empty": _empty,
    "tombstone": _tombstone,
    "not_an_object": _not_an_object,
    "deep_nesting": _deep_nesting,
    "misrouted": _misrouted,
    "caller_topic": _caller_topic,
}
