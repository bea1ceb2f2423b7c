"""Real-time adherence (RTA) and the adherence and conformance counters per agent and interval.

Pure and per Kafka partition of the agent-events topic: no I/O, no clock reads, no Faust; event time comes from
the events, the watermark and the "now" of the live view are handed in.

Sources. Genesys Cloud "How Genesys Cloud calculates adherence and conformance"
(https://help.mypurecloud.com/articles/how-genesys-cloud-calculates-adherence-and-conformance/), "About the
real-time adherence view" (https://help.mypurecloud.com/articles/about-real-time-adherence-view/) and the
management-unit AdherenceSettings model (`adherenceExceptionThresholdSeconds`, `severeAlertThresholdMinutes`).

Formulas, computed in SQL from the raw counters of `AdherenceRow` summed over any grain (never averaged):

    adherence   = max(0, 1 - sum(exception_ms) / sum(scheduled_ms))       undefined when scheduled is 0
    conformance = sum(worked_on_queue_ms) / sum(scheduled_on_queue_ms)    may exceed 100%; x/0 undefined

Definitions, for one agent at one instant:

- Effective state: `logged_out` before the first login and after a logout; `ready`, `not_ready`, `on_contact`,
  `acw` from the latest agent event. A login alone means logged in but not yet taking contacts, so it counts
  as `not_ready` until a ready / on-contact event arrives (the simulator sends the ready in the same ms). A
  login while already logged in changes nothing. A state event older than the agent's latest applied state
  event is stale (a duplicate or a producer's skewed clock) and ignored.
- Scheduled activity: from the agent's published schedule. Where published activities overlap, the one with
  the highest `schedule_version` wins (the later publication on a tie), so a re-publication of a window with
  a higher version replaces it and identical re-deliveries count once. A schedule takes effect from its own
  event time on; time already accounted is never re-opened. Nothing scheduled = off shift.
- Adherence status: `in` if the effective state is in `AdherenceConfig.in_adherence[activity]`, else `out`.
  Off shift: `unscheduled` if working (any state but `logged_out`), else not counted. `unknown`: the agent is
  working and no schedule has ever been seen for it on this partition (the simple rule: one schedule event
  for the agent, any day, makes uncovered time off shift rather than unknown). A logged-out agent with no
  schedule is not counted.
- Impact of `out`: negative (on_queue scheduled, not working on queue), positive (break / lunch / meeting /
  training scheduled, but on queue), neutral (any other mismatch, e.g. meeting scheduled, logged out);
  `unknown` for the unknown status.
- Grace (`adherenceExceptionThresholdSeconds`): an episode is a maximal contiguous stretch of `out`, across
  interval boundaries and state changes (not_ready then logged_out is one episode); any other status ends
  it. An episode shorter than `grace_s` adds no exception; once it reaches `grace_s` all of it counts, in the
  intervals where it happened. While an open episode is shorter than grace its time is pending: in
  `out_of_adherence_ms` already, in `exception_ms` only when (and if) the episode reaches grace, which
  re-emits the earlier intervals' rows with a new version.
- Out-of-shift work ("working outside shift considered exception", `out_of_shift_is_exception`): working off
  shift is `unscheduled_ms`, and with the option also added to both `scheduled_ms` and `exception_ms`, at
  once and without grace: it is an exception by policy, not a momentary deviation. Genesys' worked example:
  60 min on queue scheduled, 10 min late, 10 min over -> 1 - (10 + 10) / (60 + 10) = 71.4%; conformance
  60 / 60 = 100%.
- Conformance counts time in `ready` / `on_contact` / `acw` whether scheduled or not (numerator), against
  time scheduled `on_queue` (denominator).

Intervals are aligned to the UTC epoch (`streams.engine.timebase`); all arithmetic is integer ms. Accounting for an agent starts at its first event on the partition and runs, in its current state, up to
each later event of the agent and up to every watermark handed to `advance`, so an agent on a two-hour break
who sends nothing still fills its intervals. An event older than the agent's accounted time (late beyond the
watermark) takes effect at the accounted time.
"""

from __future__ import annotations

import itertools
import types
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any
from typing import NamedTuple
from typing import TypedDict

from streams.engine.intervals import Counts
from streams.engine.intervals import Timeline
from streams.engine.timebase import NEVER
from streams.engine.timebase import from_ms
from streams.engine.timebase import to_ms
from streams.events import AgentAfterContactWork
from streams.events import AgentLogin
from streams.events import AgentLogout
from streams.events import AgentNotReady
from streams.events import AgentOnContact
from streams.events import AgentReady
from streams.events import Event
from streams.events import ScheduleActivity

STATES = ("logged_out", "not_ready", "ready", "on_contact", "acw")
LOGGED_OUT, NOT_READY, READY, ON_CONTACT, ACW = range(5)  # states >= READY are "on queue"
ACTIVITIES = ("on_queue", "break", "lunch", "meeting", "training")
ON_QUEUE = 0
_OFF_SHIFT = 5  # activity index of time no activity covers, for an agent with a schedule
_NO_SCHEDULE = 6  # ... for an agent never scheduled
_ACTIVITY_CODE = {name: code for code, name in enumerate(ACTIVITIES)}

STATUSES = ("not_counted", "in", "out", "unscheduled", "unknown")
NOT_COUNTED, IN, OUT, UNSCHEDULED, UNKNOWN = range(5)

_LOGIN = -1
_SCHEDULE = -2
_KIND_OF_EVENT: dict[type, int] = {
    AgentLogin: _LOGIN,
    AgentReady: READY,
    AgentNotReady: NOT_READY,
    AgentOnContact: ON_CONTACT,
    AgentAfterContactWork: ACW,
    AgentLogout: LOGGED_OUT,
    ScheduleActivity: _SCHEDULE,
}

DEFAULT_IN_ADHERENCE: Mapping[str, frozenset[str]] = types.MappingProxyType(
    {
        "on_queue": frozenset({"ready", "on_contact", "acw"}),
        "break": frozenset({"not_ready", "logged_out"}),
        "lunch": frozenset({"not_ready", "logged_out"}),
        "meeting": frozenset({"not_ready"}),
        "training": frozenset({"not_ready"}),
    }
)


def _default_in_adherence() -> Mapping[str, frozenset[str]]:
    return DEFAULT_IN_ADHERENCE


@dataclass(frozen=True)
class AdherenceConfig:
    """Adherence settings of a management unit (Genesys AdherenceSettings names in the comments)."""

    interval_minutes: int = 15
    # adherenceExceptionThresholdSeconds: an out-of-adherence episode shorter than this is forgiven entirely,
    # a longer one counts in full.
    grace_s: int = 60
    # severeAlertThresholdMinutes, in seconds: the live view flags episodes at least this long.
    severe_s: int = 600
    # Working (logged in) with nothing scheduled is an exception, added to scheduled time too.
    out_of_shift_is_exception: bool = True
    # Scheduled activity -> the effective states that are in adherence for it.
    in_adherence: Mapping[str, frozenset[str]] = field(default_factory=_default_in_adherence)
    # State is accounted at most this far behind the time it is accounted up to. Normally the watermark moves
    # a little per batch and this never bites; when it jumps further (a feed resuming after days, a far-past
    # first event of an agent, hostile input), the span before is left without rows instead of accounting, and
    # holding, every interval of it for every agent: one event dated the year 1013 used to exhaust memory.
    max_account_back_hours: int = 49

    def __post_init__(self) -> None:
        if self.interval_minutes < 1:
            raise ValueError("interval_minutes must be at least 1")
        if self.grace_s < 0 or self.severe_s < 0:
            raise ValueError("grace_s and severe_s must not be negative")
        for activity, states in self.in_adherence.items():
            if activity not in _ACTIVITY_CODE:
                raise ValueError(f"in_adherence: unknown activity {activity!r}")
            unknown = set(states) - set(STATES)
            if unknown:
                raise ValueError(f"in_adherence.{activity}: unknown states {sorted(unknown)}")


class AdherenceRow(NamedTuple):
    """One partition's cumulative counters (ms) for an agent and interval; `version` is the last offset applied.

    A later version of the same key replaces the earlier one (ReplacingMergeTree). Rows re-emitted by
    `advance` or by an episode reaching grace carry the same version as the last event applied, so among
    equal versions the later insert must win.
    """

    interval_start: datetime
    tenant: str
    source: str
    team: str
    agent_id: str
    stream_partition: int
    scheduled_ms: int  # scheduled time, plus out-of-shift working time when that is an exception
    exception_ms: int  # out-of-adherence episodes >= grace, plus out-of-shift working time with the option
    in_adherence_ms: int
    out_of_adherence_ms: int  # every out-of-adherence ms: exception, pending and forgiven alike
    unscheduled_ms: int  # working off shift
    unknown_ms: int  # working, and the agent has no schedule at all
    scheduled_on_queue_ms: int  # conformance denominator
    worked_on_queue_ms: int  # ready / on_contact / acw, scheduled or not: conformance numerator
    handling_ms: int  # on_contact / acw: occupancy = handling / worked on queue, in the interval it happened
    version: int


ADHERENCE_KEY = ("interval_start", "tenant", "source", "team", "agent_id", "stream_partition")


@dataclass(slots=True)
class AdherenceCounts(Counts):
    """An agent's counters for one interval, in ms, named and ordered as the columns of `AdherenceRow`."""

    scheduled_ms: int = 0
    exception_ms: int = 0
    in_adherence_ms: int = 0
    out_of_adherence_ms: int = 0
    unscheduled_ms: int = 0
    unknown_ms: int = 0
    scheduled_on_queue_ms: int = 0
    worked_on_queue_ms: int = 0
    # Counters added later go last: a checkpoint stores them by position and an older one lacks them.
    handling_ms: int = 0


class LiveAdherence(NamedTuple):
    """An agent out of adherence now, for at least the grace period: the RTA board's line."""

    tenant: str
    source: str
    team: str
    agent_id: str
    since_ms: int
    duration_ms: int
    severe: bool
    activity: str
    state: str
    impact: str  # negative | positive | neutral


class AdherenceSnapshot(TypedDict):
    partition: int
    config: dict[str, Any]
    version: int
    rows: list[list[Any]]  # [tenant, source, team, agent_id, interval_ms, 8 counters]
    dirty: list[int]  # indexes into rows
    agents: list[dict[str, Any]]


def impact(activity: str | None, state: str) -> str:
    """Genesys RTA impact of an out-of-adherence instant; `unknown` when nothing is scheduled."""
    if activity is None:
        return "unknown"
    on_queue_state = STATES.index(state) >= READY
    if activity == "on_queue" and not on_queue_state:
        return "negative"
    if activity != "on_queue" and on_queue_state:
        return "positive"
    return "neutral"


_Key = tuple[str, str, str, str, int]  # tenant, source, team, agent, interval start ms
Segment = tuple[int, int, int]  # start, end (ms), activity index


def _segment(segments: list[Segment], i: int, t: int, gap: int, until: int) -> tuple[int, int, int]:
    """The schedule at instant `t`: (activity, when it stops covering `t`, index of the segment to look at
    next), looking from segment `i` on. Time no segment covers is `gap` (off shift, or never scheduled) up to
    the next segment or `until`. Accounting and the live board walk the schedule with this one function."""
    n = len(segments)
    while i < n and segments[i][1] <= t:
        i += 1
    if i == n:
        return gap, until, i
    start, end, activity = segments[i]
    return (gap, start, i) if start > t else (activity, end, i)


class _Agent:
    """One agent's state: effective state, schedule, accounting cursor, open episode and current rows."""

    __slots__ = (
        "agent_id",
        "current",
        "current_interval",
        "current_key",
        "cursor",
        "episode_confirmed",
        "episode_ms",
        "episode_open",
        "episode_pending",
        "episode_start",
        "has_schedule",
        "publications",
        "published",
        "rows",
        "rows_interval",
        "schedule_stale",
        "segment_index",
        "segments",
        "source",
        "state",
        "state_ts",
        "team",
        "tenant",
    )

    def __init__(self, tenant: str, agent_id: str, source: str, team: str, cursor: int) -> None:
        self.tenant = tenant
        self.agent_id = agent_id
        self.source = source
        self.team = team
        self.state = LOGGED_OUT
        self.state_ts = NEVER
        self.cursor = cursor  # accounted up to here
        self.has_schedule = False
        self.publications = 0
        # (start, end) -> (schedule_version, publication sequence, activity code)
        self.published: dict[tuple[int, int], tuple[int, int, int]] = {}
        self.segments: list[Segment] = []  # resolved from `published`: disjoint and sorted
        self.segment_index = 0
        self.schedule_stale = False
        # The open out-of-adherence episode: since when, for how long, whether it reached grace, and while it
        # has not, the counters it would add exception to: [key, counters, ms].
        self.episode_open = False
        self.episode_start = 0
        self.episode_ms = 0
        self.episode_confirmed = False
        self.episode_pending: list[list[Any]] = []
        self.rows_interval: int | None = None
        self.rows: dict[_Key, AdherenceCounts] = {}  # rows of interval `rows_interval`
        self.current_interval: int | None = None  # the interval and row being accounted into
        self.current_key: _Key = (tenant, source, team, agent_id, 0)
        self.current = AdherenceCounts()


class AdherenceEngine:
    """Adherence counters and the live RTA view for the agents of one partition of the agent-events topic.

    State is O(agents): rows of past intervals are dropped once drained, except those an open episode may
    still turn into exception.
    """

    def __init__(
        self, partition: int, config: AdherenceConfig | None = None, time: Timeline | None = None
    ) -> None:
        self.partition = partition
        self.config = config = config or AdherenceConfig()
        self._width = config.interval_minutes * 60_000
        self.time = time or Timeline(self._width)
        self._max_back = config.max_account_back_hours * 3_600_000
        self._grace = config.grace_s * 1000
        self._severe = config.severe_s * 1000
        self._oos = config.out_of_shift_is_exception
        # kinds[activity index][state] -> status; activity index 5 = off shift, 6 = never scheduled.
        kinds: list[tuple[int, ...]] = []
        for name in ACTIVITIES:
            allowed = config.in_adherence.get(name, frozenset())
            kinds.append(tuple(IN if state in allowed else OUT for state in STATES))
        kinds.append(tuple(NOT_COUNTED if s == LOGGED_OUT else UNSCHEDULED for s in range(len(STATES))))
        kinds.append(tuple(NOT_COUNTED if s == LOGGED_OUT else UNKNOWN for s in range(len(STATES))))
        self._kinds = tuple(kinds)
        self._agents: dict[tuple[str, str], _Agent] = {}
        self._dirty: dict[_Key, AdherenceCounts] = {}

    # --- input ------------------------------------------------------------------------------------------

    def apply(self, events: Iterable[tuple[int, Event]]) -> None:
        """Fold (offset, event) pairs in; contact and vendor events are ignored but move the version."""
        agents = self._agents
        kind_of = _KIND_OF_EVENT
        last = -1
        for offset, event in events:
            if offset > last:
                last = offset
            kind = kind_of.get(type(event))
            if kind is None:
                continue
            ev: Any = event
            ts = to_ms(ev.ts)
            key = (ev.tenant, ev.agent_id)
            agent = agents.get(key)
            if agent is None:
                agent = agents[key] = _Agent(ev.tenant, ev.agent_id, ev.source, ev.team, ts)
            if kind == _SCHEDULE:
                self._account(agent, ts)
                if ev.source != agent.source or ev.team != agent.team:
                    self._set_group(agent, ev.source, ev.team)
                self._publish(agent, ev)
                continue
            if ts < agent.state_ts:
                continue
            self._account(agent, ts)
            if ev.source != agent.source or ev.team != agent.team:
                self._set_group(agent, ev.source, ev.team)
            agent.state_ts = ts
            if kind == _LOGIN:
                if agent.state == LOGGED_OUT:
                    agent.state = NOT_READY
            else:
                agent.state = kind
        self.time.applied(last)

    def advance(self, watermark_ms: int, tenant: str | None = None) -> None:
        """Account every agent's (of `tenant`, or all) current state up to that event-time watermark.

        Watermarks are per tenant: tenants are separate operations whose feeds may lag each other."""
        for agent in self._agents.values():
            if agent.cursor < watermark_ms and (tenant is None or agent.tenant == tenant):
                self._account(agent, watermark_ms)

    @staticmethod
    def _set_group(agent: _Agent, source: str, team: str) -> None:
        """Rows are keyed by source and team: a move starts new rows from here on."""
        agent.source, agent.team = source, team
        agent.current_interval = None

    @staticmethod
    def _publish(agent: _Agent, event: ScheduleActivity) -> None:
        start = to_ms(event.start)
        end = to_ms(event.end)
        agent.has_schedule = True
        if end <= agent.cursor:
            return  # wholly in accounted time: it can change nothing any more
        known = agent.published.get((start, end))
        if known is not None and known[0] > event.schedule_version:
            return
        agent.publications += 1
        agent.published[(start, end)] = (
            event.schedule_version,
            agent.publications,
            _ACTIVITY_CODE[event.activity],
        )
        agent.schedule_stale = True

    @staticmethod
    def _resolve(agent: _Agent) -> None:
        """Disjoint (start, end, activity) segments from the published activities, highest version on top."""
        cursor = agent.cursor
        published = {window: value for window, value in agent.published.items() if window[1] > cursor}
        ranked = sorted(published.items(), key=lambda item: item[1][:2], reverse=True)
        points = sorted({point for window in published for point in window})
        segments: list[Segment] = []
        for a, b in itertools.pairwise(points):
            for (start, end), (_, _, activity) in ranked:
                if start <= a and b <= end:
                    if segments and segments[-1][1] == a and segments[-1][2] == activity:
                        segments[-1] = (segments[-1][0], b, activity)
                    else:
                        segments.append((a, b, activity))
                    break
        agent.published = published
        agent.segments = segments
        agent.segment_index = 0
        agent.schedule_stale = False

    # --- accounting ---------------------------------------------------------------------------------------

    def _account(self, agent: _Agent, until: int) -> None:
        """Count the agent's current state from its cursor to `until`, split by activity and interval."""
        t = agent.cursor
        if until <= t:
            return
        if t < until - self._max_back:
            t = until - self._max_back
            if agent.episode_open:
                self._close_episode(agent)
        if agent.schedule_stale:
            self._resolve(agent)
        state = agent.state
        kinds = self._kinds
        segments = agent.segments
        i = agent.segment_index
        gap = _OFF_SHIFT if agent.has_schedule else _NO_SCHEDULE
        width = self._width
        on_queue_state = state >= READY
        handling_state = state >= ON_CONTACT
        dirty = self._dirty
        while t < until:
            activity, end, i = _segment(segments, i, t, gap, until)
            status = kinds[activity][state]
            if status == NOT_COUNTED:
                if agent.episode_open:
                    self._close_episode(agent)
                t = end if end < until else until
                continue
            interval = t - t % width
            b = interval + width  # the end of this piece: the interval's, the activity's or `until`
            if end < b:
                b = end
            if until < b:
                b = until
            d = b - t
            c = agent.current if interval == agent.current_interval else self._row(agent, interval)
            if status == IN:
                c.scheduled_ms += d
                c.in_adherence_ms += d
                if agent.episode_open:
                    self._close_episode(agent)
            elif status == OUT:
                c.scheduled_ms += d
                c.out_of_adherence_ms += d
                if not agent.episode_open:
                    agent.episode_open = True
                    agent.episode_start = t
                agent.episode_ms += d
                if agent.episode_confirmed:
                    c.exception_ms += d
                else:
                    self._pend(agent, c, d)
            elif status == UNSCHEDULED:
                c.unscheduled_ms += d
                if self._oos:
                    c.scheduled_ms += d
                    c.exception_ms += d
                if agent.episode_open:
                    self._close_episode(agent)
            else:
                c.unknown_ms += d
                if agent.episode_open:
                    self._close_episode(agent)
            if activity == ON_QUEUE:
                c.scheduled_on_queue_ms += d
            if on_queue_state:
                c.worked_on_queue_ms += d
                if handling_state:
                    c.handling_ms += d
            dirty[agent.current_key] = c
            t = b
        agent.cursor = until
        agent.segment_index = i

    @staticmethod
    def _row(agent: _Agent, interval: int) -> AdherenceCounts:
        if interval != agent.rows_interval:
            agent.rows_interval = interval
            agent.rows = {}
        key = (agent.tenant, agent.source, agent.team, agent.agent_id, interval)
        c = agent.rows.get(key)
        if c is None:
            c = agent.rows[key] = AdherenceCounts()
        agent.current_interval, agent.current_key, agent.current = interval, key, c
        return c

    def _pend(self, agent: _Agent, c: AdherenceCounts, d: int) -> None:
        pending = agent.episode_pending
        if pending and pending[-1][1] is c:
            pending[-1][2] += d
        else:
            pending.append([agent.current_key, c, d])
        if agent.episode_ms >= self._grace:
            # The episode reached grace: all of it is exception, in the intervals where it happened.
            dirty = self._dirty
            for key, counters, ms in pending:
                counters.exception_ms += ms
                dirty[key] = counters
            agent.episode_pending = []
            agent.episode_confirmed = True

    @staticmethod
    def _close_episode(agent: _Agent) -> None:
        agent.episode_open = False
        agent.episode_ms = 0
        agent.episode_confirmed = False
        agent.episode_pending = []  # an episode that ended under grace is forgiven

    # --- output -------------------------------------------------------------------------------------------

    def drain_rows(self) -> list[AdherenceRow]:
        """Rows changed since the last drain, each with its full cumulative counters."""
        partition, version = self.partition, self.time.version()
        starts: dict[int, datetime] = {}
        rows = []
        for key, c in sorted(self._dirty.items(), key=lambda item: (item[0][4], item[0][:4])):
            tenant, source, team, agent_id, interval = key
            start = starts.get(interval)
            if start is None:
                start = starts[interval] = from_ms(interval)
            rows.append(
                AdherenceRow(
                    start, tenant, source, team, agent_id, partition,
                    c.scheduled_ms, c.exception_ms, c.in_adherence_ms, c.out_of_adherence_ms,
                    c.unscheduled_ms, c.unknown_ms, c.scheduled_on_queue_ms, c.worked_on_queue_ms,
                    c.handling_ms, version,
                )
            )  # fmt: skip
        self._dirty.clear()
        return rows

    def live(self, now_ms: int) -> list[LiveAdherence]:
        """Agents out of adherence at `now_ms` (processing time, handed in) for at least the grace period.

        Each agent's current state is projected from its accounted time to `now_ms` without changing any
        counter, so the board is right even while the watermark lags. Longest episodes first.
        """
        board = []
        kinds = self._kinds
        for agent in self._agents.values():
            if agent.schedule_stale:
                self._resolve(agent)
            state = agent.state
            gap = _OFF_SHIFT if agent.has_schedule else _NO_SCHEDULE
            at = max(now_ms, agent.cursor)
            since: int | None = agent.episode_start if agent.episode_open else None
            i, t = agent.segment_index, agent.cursor
            while True:
                activity, end, i = _segment(agent.segments, i, t, gap, at + 1)
                if kinds[activity][state] != OUT:
                    since = None
                elif since is None:
                    since = t
                if t >= at:
                    break
                t = min(end, at)
            if since is None or at - since < self._grace:
                continue
            name = ACTIVITIES[activity]
            board.append(
                LiveAdherence(
                    agent.tenant, agent.source, agent.team, agent.agent_id, since, at - since,
                    at - since >= self._severe, name, STATES[state], impact(name, STATES[state]),
                )
            )  # fmt: skip
        board.sort(key=lambda line: (-line.duration_ms, line.tenant, line.agent_id))
        return board

    # --- checkpoint ---------------------------------------------------------------------------------------

    def snapshot(self) -> AdherenceSnapshot:
        """Plain JSON-able data; `restore` of it, then the same input, gives the same rows as never stopping."""
        rows: list[list[Any]] = []
        index: dict[int, int] = {}

        def ref(key: _Key, c: AdherenceCounts) -> int:
            at = index.get(id(c))
            if at is None:
                at = index[id(c)] = len(rows)
                rows.append([*key, *c.dump()])
            return at

        agents = []
        for agent in self._agents.values():
            agents.append(
                {
                    "tenant": agent.tenant,
                    "agent_id": agent.agent_id,
                    "source": agent.source,
                    "team": agent.team,
                    "state": agent.state,
                    "state_ts": agent.state_ts,
                    "cursor": agent.cursor,
                    "has_schedule": agent.has_schedule,
                    "seq": agent.publications,
                    "acts": [[s, e, v, q, a] for (s, e), (v, q, a) in agent.published.items()],
                    "episode": [
                        agent.episode_open,
                        agent.episode_start,
                        agent.episode_ms,
                        agent.episode_confirmed,
                    ],
                    "pending": [[ref(key, c), ms] for key, c, ms in agent.episode_pending],
                    "row_iv": agent.rows_interval,
                    "rows": [ref(key, c) for key, c in agent.rows.items()],
                }
            )
        dirty = [ref(key, c) for key, c in self._dirty.items()]
        config = self.config
        return {
            "partition": self.partition,
            "config": {
                "interval_minutes": config.interval_minutes,
                "grace_s": config.grace_s,
                "severe_s": config.severe_s,
                "out_of_shift_is_exception": config.out_of_shift_is_exception,
                "in_adherence": {name: sorted(states) for name, states in config.in_adherence.items()},
                "max_account_back_hours": config.max_account_back_hours,
            },
            "version": self.time.applied_offset,
            "rows": rows,
            "dirty": dirty,
            "agents": agents,
        }

    @classmethod
    def restore(cls, snapshot: AdherenceSnapshot) -> AdherenceEngine:
        """A new engine, with its settings and on a timeline of its own, from `snapshot`."""
        settings = dict(snapshot["config"])
        settings["in_adherence"] = types.MappingProxyType(
            {name: frozenset(states) for name, states in settings["in_adherence"].items()}
        )
        engine = cls(snapshot["partition"], AdherenceConfig(**settings))
        engine.time.applied(snapshot["version"])
        engine.load(snapshot)
        return engine

    def load(self, snapshot: AdherenceSnapshot) -> None:
        """Fill this new engine from `snapshot`; its timeline is restored by the partition that owns it."""
        rows: list[tuple[_Key, AdherenceCounts]] = [
            ((r[0], r[1], r[2], r[3], r[4]), AdherenceCounts.load([int(x) for x in r[5:]]))
            for r in snapshot["rows"]
        ]
        for at in snapshot["dirty"]:
            key, c = rows[at]
            self._dirty[key] = c
        for data in snapshot["agents"]:
            agent = _Agent(data["tenant"], data["agent_id"], data["source"], data["team"], data["cursor"])
            agent.state = data["state"]
            agent.state_ts = data["state_ts"]
            agent.has_schedule = data["has_schedule"]
            agent.publications = data["seq"]
            agent.published = {(s, e): (v, q, a) for s, e, v, q, a in data["acts"]}
            agent.schedule_stale = True
            agent.episode_open, agent.episode_start, agent.episode_ms, agent.episode_confirmed = data[
                "episode"
            ]
            agent.episode_pending = [[rows[at][0], rows[at][1], ms] for at, ms in data["pending"]]
            agent.rows_interval = data["row_iv"]
            agent.rows = {rows[at][0]: rows[at][1] for at in data["rows"]}
            self._agents[(agent.tenant, agent.agent_id)] = agent
