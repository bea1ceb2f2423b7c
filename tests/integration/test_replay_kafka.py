"""`acdscope replay` of the real January 1999 log into the broker: every call's events on the contact topic,
keyed by the call, in order, and a resumed replay sends only what is left."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from producers.kafka_out import ensure_topics
from streams.events import decode_event

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "anonymous_bank" / "january.txt"


def test_replay_a_real_log_window_into_kafka_keeping_per_call_order(servers, topic_suffix, tmp_path) -> None:
    topic = f"bank.{topic_suffix}"
    ensure_topics(servers.kafka_bootstrap, {topic: 3})
    env = dict(
        os.environ, ACDSCOPE_KAFKA_BOOTSTRAP=servers.kafka_bootstrap, ACDSCOPE_TOPIC_CONTACT_EVENTS=topic
    )
    command = [
        sys.executable, "-m", "acdscope.cli", "replay", str(DATA), "--format", "anonymous-bank", "--to", "kafka",
        "--from", "1999-01-04T06:00:00", "--until", "1999-01-04T08:00:00",
        "--resume-file", str(tmp_path / "resume"),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = re.search(r"([\d,]+) sent to kafka, [\d,]+ outside the window", " ".join(done.stdout.split()))
    assert summary is not None, done.stdout
    sent = int(summary.group(1).replace(",", ""))
    assert sent > 100
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    resumed = " ".join(again.stdout.split())
    assert " 0 sent to kafka," in resumed, resumed  # resumed: nothing left to send
    assert f"{sent:,} already sent before (resumed)" in resumed

    consumer = KafkaConsumer(
        topic, bootstrap_servers=servers.kafka_bootstrap, auto_offset_reset="earliest",
        consumer_timeout_ms=10_000, group_id=None,
    )  # fmt: skip
    by_key: dict[bytes, list[str]] = defaultdict(list)
    count = 0
    for message in consumer:
        event = decode_event(message.value)
        assert message.key == event.initial_contact_id.encode()
        by_key[message.key].append(event.type)
        count += 1
        if count == sent:
            break
    consumer.close()
    assert count == sent
    # A time window can cut a call (offered before it, ended inside); within a key the order always holds.
    lifecycle = ["contact.offered", "contact.queued", "contact.answered", "contact.ended"]
    for types in by_key.values():
        ranks = [lifecycle.index(t) for t in types if t in lifecycle]
        assert ranks == sorted(ranks), types
