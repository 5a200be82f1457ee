"""Soak: minutes of mixed traffic against production-like servers, counting errors, lost events and memory.

The servers run as ``scripts/serve-production`` starts them: uvicorn (``--ws websockets-sansio
--ws-per-message-deflate false``, one worker) for the websockets and gunicorn (sync workers) for
pages and the API, with DEBUG off, PostgreSQL and Redis, on a database this script fills first
through the services: a jobcenter, a social office and a youth office at one round table, and an
outsider agency (an immigration authority) at none, each with caseworkers and persons with consents.

For ``--duration`` seconds, at the same time:

- **staff in the browser**: threads of simulated staff of all four agencies ask for pages
  (dashboard, inbox, a person, a person search, flats, referrals, figures) with their session
  cookie, and use the REST API with their token: referrals created, received and accepted
  between the round table's agencies, comments on the outsider's persons;
- **the services**: a publisher process sends, receives, accepts and declines referrals and
  comments on them (and on the outsider's persons) through ``referrals.services`` and
  ``messaging.services``, stamping each commit (``time.time_ns()``) for the latency;
- **websockets**: ``--sockets`` sockets in client processes, logged in as the staff of all four
  agencies, say ``hello`` and record every event with its time of receipt.

Afterwards every socket's expected events are computed from the outbox (``hub.models.Event``,
every event of the run, including those the HTTP traffic caused): the events whose audience
meets the groups ``hub.access.groups_for`` gives the socket's user. **Lost** is expected minus
received (the hub's gap repair included); sockets that miss some then say ``hello`` again from
before the first missing one, as a browser does; what is still missing is *lost after catch-up*.
A **leak** is an event a socket received whose audience does not meet its user's groups.

Memory: the RSS of the uvicorn process and of each gunicorn worker every ``--sample`` seconds; the
first minute is warm-up; the slope is a least-squares fit over the rest, with its 95 % interval,
and again over the second half alone. Memory counts as growing when the second half's slope, kept
up for the whole run, adds 3 % or more and its interval excludes zero: growth that stopped midway
(caches and pools filled) is not a leak.

``--channel-layer pubsub core core-per-socket`` runs one phase each: the hub's
``RedisPubSubChannelLayer``; Channels' default ``channels_redis.core.RedisChannelLayer`` under the
hub's consumer; and that layer under the consumer of Channels' tutorial (``bench/naive_ws.py``: a
layer channel per socket, in each of its user's groups), the naive stack whole. Each phase has a
settings module of its own that imports ``hub.settings`` and replaces only ``CHANNEL_LAYERS``
(with a prefix of this run, so that other runs on the same Redis do not hear these events).

Run by hand, never by pytest (see bench/README.md):

    uv run python bench/soak.py --duration 600 --sockets 1000 --write-readme
    uv run python bench/soak.py --channel-layer pubsub core core-per-socket --duration 120 --sockets 1000 --write-readme
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime
import functools
import json
import math
import os
import random
import re
import secrets
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from pathlib import Path
from typing import IO, Any

# Run as a script: the repository's root on the path, for the apps and bench's own modules.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.realtime import (  # noqa: E402 (after the path)
    CLOCK_TICKS,
    ORIGIN_HOST,
    README,
    RESULTS_DIR,
    add_run_options,
    cpu_seconds,
    django_setup,
    emit,
    expect,
    free_port,
    lower_priority,
    machine_busy,
    machine_facts,
    ms,
    percentile,
    production_environment,
    redis_pid,
    replace_readme_section,
    rss_kib,
    say,
    stop,
    tell,
    wait_for_port,
    wait_for_quiet,
)

SCRIPT = Path(__file__).resolve()
REPO = SCRIPT.parent.parent
README_BEGIN = "<!-- soak:begin -->"
README_END = "<!-- soak:end -->"

# (key, name, kind): three agencies at the round table and one outsider, which must hear nothing of them.
AGENCIES = (
    ("jobcenter", "Jobcenter", "jobcenter"),
    ("social", "Sozialamt", "social_office"),
    ("youth", "Jugendamt", "youth_office"),
    ("outsider", "Ausländerbehörde", "immigration_authority"),
)
ROUND_TABLE = ("jobcenter", "social", "youth")
OUTSIDER = "outsider"
CATEGORIES = ["identity", "contact"]
PUBSUB = "channels_redis.pubsub.RedisPubSubChannelLayer"  # the hub's (hub/settings.py)
CORE = "channels_redis.core.RedisChannelLayer"  # Channels' documented default
HUB_ASGI = "hub.asgi:application"
# Each phase's channel layer and websocket consumer: the hub's, or the naive stack's parts.
LAYERS = {
    "pubsub": (PUBSUB, HUB_ASGI),
    "core": (CORE, HUB_ASGI),
    "core-per-socket": (CORE, "bench.naive_ws:application"),  # Channels' tutorial consumer
}
EVENT_PREFIX = '{"type": "event", "event": {"id": '  # messaging.consumers.encoded writes exactly this
LISTINGS = 5


# --------------------------------------------------------------------------- measuring helpers


def process_children(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


class PostgresMeter:
    """CPU time of the PostgreSQL backends serving one database (other databases on the machine are
    other work). A backend's time is kept after it ends, as last sampled."""

    def __init__(self, database: str) -> None:
        self.pattern = re.compile(rf"^postgres: .*? {re.escape(database)} ")
        self.seen: dict[int, float] = {}

    def seconds(self) -> float:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError, ValueError):
                if (entry / "comm").read_text().strip() != "postgres":
                    continue
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if self.pattern.match(command):
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    self.seen[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        return sum(self.seen.values())


def t_quantile_975(df: int) -> float:
    """The 97.5 % quantile of Student's t (Cornish-Fisher expansion; within 0.1 % from 5 degrees of freedom)."""
    z = 1.959963984540054
    if df <= 0:
        return math.inf
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / df + g2 / df**2 + g3 / df**3


def trend(points: list[tuple[float, float]]) -> dict[str, float]:
    """Least-squares slope of (minutes, KiB) with its 95 % confidence half-width."""
    n = len(points)
    if n < 3:
        return {"slope_kib_per_min": math.nan, "ci95_kib_per_min": math.nan, "samples": n}
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    residual = sum((y - my - slope * (x - mx)) ** 2 for x, y in points)
    error = math.sqrt(residual / (n - 2) / sxx)
    return {"slope_kib_per_min": slope, "ci95_kib_per_min": t_quantile_975(n - 2) * error, "samples": n}


def settings_module(workdir: Path, layer: str, prefix: str) -> str:
    """A settings module that is ``hub.settings`` with only the channel layer replaced."""
    name = f"soak_settings_{layer.replace('-', '_')}"
    backend = LAYERS[layer][0]
    (workdir / f"{name}.py").write_text(
        f'"""hub.settings with the {layer} channel layer (bench/soak.py)."""\n\n'
        "from hub.settings import *  # noqa: F403\n"
        "from hub.settings import REDIS_URL\n\n"
        "CHANNEL_LAYERS = {\n"
        f'    "default": {{"BACKEND": {backend!r}, "CONFIG": {{"hosts": [REDIS_URL], "prefix": {prefix!r}}}}}\n'
        "}\n"
    )
    return name


# --------------------------------------------------------------------------- websocket clients


async def client_main(spec_path: str) -> None:
    """Open ``count`` sockets, say hello, stamp every message until told to stop, then judge them."""
    from websockets.asyncio.client import ClientConnection, connect

    spec = json.loads(Path(spec_path).read_text())
    url: str = spec["url"]
    cookies: list[str] = spec["cookies"]
    count: int = spec["count"]
    offset: int = spec["offset"]
    start_id: int = spec["start_id"]
    loop = asyncio.get_running_loop()
    ids = [array("q") for _ in range(count)]
    stamps = [array("q") for _ in range(count)]
    other: collections.Counter[str] = collections.Counter()
    drops: list[dict[str, Any]] = []
    stopping = False

    def event_id(raw: str) -> int | None:
        if raw.startswith(EVENT_PREFIX):
            return int(raw[len(EVENT_PREFIX) : raw.index(",", len(EVENT_PREFIX))])
        message = json.loads(raw)
        if message.get("type") == "event":
            return int(message["event"]["id"])
        other[str(message.get("type"))] += 1
        return None

    def cookie_of(index: int) -> int:
        return (offset + index) % len(cookies)

    async def open_socket(index: int, last_id: int) -> tuple[ClientConnection, list[str], str]:
        """Connect as a browser does (no pings of its own) and wait for the answer to hello."""
        headers = {"Cookie": cookies[cookie_of(index)]}
        websocket = await connect(
            url,
            origin=spec["origin"],
            additional_headers=headers,
            open_timeout=120,
            ping_interval=None,
        )
        await websocket.send(json.dumps({"type": "hello", "last_event_id": last_id}))
        replayed: list[str] = []
        while True:
            raw = str(await asyncio.wait_for(websocket.recv(), timeout=120))
            kind = json.loads(raw)["type"]
            if kind in {"ready", "reload"}:
                return websocket, replayed, kind
            if kind != "event":
                raise RuntimeError(f"unexpected answer to hello: {raw!r}")
            replayed.append(raw)

    gate = asyncio.Semaphore(50)  # a storm of hundreds of handshakes at once only measures the backlog

    async def gated(index: int) -> ClientConnection:
        async with gate:
            websocket, replayed, _kind = await open_socket(index, start_id)
            now = time.time_ns()
            for raw in replayed:
                found = event_id(raw)
                if found is not None:
                    ids[index].append(found)
                    stamps[index].append(now)
            return websocket

    sockets = list(await asyncio.gather(*(gated(i) for i in range(count))))

    async def listen(index: int) -> None:
        record_id, record_stamp = ids[index].append, stamps[index].append
        while True:
            with contextlib.suppress(Exception):
                async for raw in sockets[index]:
                    stamp = time.time_ns()  # first, so that parsing is not inside the latency
                    found = event_id(raw if isinstance(raw, str) else raw.decode())
                    if found is not None:
                        record_id(found)
                        record_stamp(stamp)
            if stopping:
                return
            # Closed by the server or the network: a browser comes back with hello from what it has seen.
            websocket = sockets[index]
            drops.append(
                {
                    "socket": offset + index,
                    "code": websocket.close_code,
                    "reason": websocket.close_reason,
                    "at": time.time(),
                }
            )
            await asyncio.sleep(1)
            last = max(ids[index]) if ids[index] else start_id
            with contextlib.suppress(Exception):
                sockets[index], replayed, _kind = await open_socket(index, last)
                now = time.time_ns()
                for raw in replayed:
                    found = event_id(raw)
                    if found is not None:
                        record_id(found)
                        record_stamp(now)

    listeners = [asyncio.ensure_future(listen(i)) for i in range(count)]
    emit("ready", count=len(sockets))

    command = (await loop.run_in_executor(None, sys.stdin.readline)).split()
    stopping = True
    await asyncio.gather(*(websocket.close() for websocket in sockets), return_exceptions=True)
    await asyncio.gather(*listeners, return_exceptions=True)
    if len(command) < 3:
        return
    judge = json.loads(Path(command[1]).read_text())
    commits = {int(k): v for k, v in json.loads(Path(command[2]).read_text()).items()}
    window_low, window_high = judge["window"]
    expected_by_cookie = [set(ids_) for ids_ in judge["expected"]]
    agency_of_cookie: list[str] = judge["agency_of_cookie"]

    per_agency: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    latency_ids, latency_us = array("q"), array("q")
    leaks: list[list[int]] = []
    missing_by_socket: dict[int, set[int]] = {}
    received = []  # distinct events per socket
    for index in range(count):
        cookie = cookie_of(index)
        counts = per_agency[agency_of_cookie[cookie]]
        expected = expected_by_cookie[cookie]
        first: dict[int, int] = {}
        for found, stamp in zip(ids[index], stamps[index], strict=True):
            if found in first:
                counts["duplicates"] += 1
            else:
                first[found] = stamp
        inside = {found for found in first if window_low < found <= window_high}
        received.append(len(first))
        counts["sockets"] += 1
        counts["expected"] += len(expected)
        counts["deliveries"] += len(inside & expected)
        counts["outside_window"] += len(first) - len(inside)
        leaked = inside - expected
        counts["leaks"] += len(leaked)
        leaks.extend([offset + index, found] for found in sorted(leaked)[:5])
        missing = expected - inside
        counts["lost_live"] += len(missing)
        if missing:
            missing_by_socket[index] = missing
        for found in inside & expected:
            commit = commits.get(found)
            if commit is not None:
                latency_ids.append(found)
                latency_us.append((first[found] - commit) // 1000)
        ids[index], stamps[index] = array("q"), array("q")

    # What the live path and the gap repair missed, asked for again as a reconnecting page does.
    for index, missing in missing_by_socket.items():
        counts = per_agency[agency_of_cookie[cookie_of(index)]]
        try:
            websocket, replayed, kind = await open_socket(index, min(missing) - 1)
            await websocket.close()
        except Exception:
            counts["catch_up_failed"] += len(missing)
            continue
        if kind == "reload":
            counts["reload_needed"] += len(missing)
            continue
        replayed_ids = {event_id(raw) for raw in replayed}
        counts["caught_up"] += len(missing & replayed_ids)
        counts["lost_after_catch_up"] += len(missing - replayed_ids)

    out = Path(spec["out"])
    with (out.with_suffix(".ids")).open("wb") as stream:
        latency_ids.tofile(stream)
    with (out.with_suffix(".lat")).open("wb") as stream:
        latency_us.tofile(stream)
    out.write_text(
        json.dumps(
            {
                "per_agency": {key: dict(counter) for key, counter in per_agency.items()},
                "other_messages": dict(other),
                "drops": drops,
                "leak_samples": leaks[:50],
                "received_per_socket": received,
            }
        )
    )
    emit("done", path=str(out))


# --------------------------------------------------------------------------- the services' side


def stamp_commit(into: list[int]) -> None:
    into.append(time.time_ns())


def publisher_main(spec_path: str) -> None:
    """Referral steps and comments through the services at a steady rate, each commit stamped."""
    django_setup()
    from django.db import close_old_connections, transaction
    from django.utils import timezone

    from agencies.models import Agency, User
    from hub import events
    from messaging import services as messaging_services
    from referrals import services as referral_services
    from referrals.models import Consent, Person, Referral

    spec = json.loads(Path(spec_path).read_text())
    rng = random.Random(spec["seed"])
    actors = {key: User.objects.get(pk=pk) for key, pk in spec["actors"].items()}
    agencies = {key: Agency.objects.get(pk=pk) for key, pk in spec["agencies"].items()}
    persons = {key: [(pid, cid) for pid, cid, _name in rows] for key, rows in spec["persons"].items()}
    pairs = [(a, b) for a in ROUND_TABLE for b in ROUND_TABLE if a != b]
    sent: collections.deque[tuple[int, str]] = collections.deque()  # (referral, receiving agency key)
    received: collections.deque[tuple[int, str]] = collections.deque()
    recent: collections.deque[tuple[int, str, str]] = collections.deque(maxlen=50)  # (referral, from, to)
    published: list[tuple[int, str]] = []

    @events.listen
    def remember(event: Any, target: Any, actor: Any) -> None:
        published.append((event.pk, event.verb))

    def send() -> None:
        source, target = pairs[rng.randrange(len(pairs))]
        person_id, consent_id = rng.choice(persons[source])
        referral = referral_services.referral_create(
            actor=actors[source],
            person=Person.objects.get(pk=person_id),
            to_agency=agencies[target],
            reason="Dauerlauf",
            categories=CATEGORIES,
            legal_basis="consent",
            consent=Consent.objects.get(pk=consent_id),
            answer_due_on=timezone.localdate() + datetime.timedelta(days=14),
        )
        sent.append((referral.pk, target))
        recent.append((referral.pk, source, target))

    def receive() -> None:
        pk, target = sent.popleft()
        referral_services.referral_transition(
            actor=actors[target], referral=Referral.objects.get(pk=pk), action="receive"
        )
        received.append((pk, target))

    def answer() -> None:
        pk, target = received.popleft()
        referral = Referral.objects.get(pk=pk)
        if rng.random() < 0.8:
            referral_services.referral_transition(actor=actors[target], referral=referral, action="accept")
        else:
            referral_services.referral_transition(
                actor=actors[target], referral=referral, action="decline", note="Kein Platz frei"
            )

    def comment() -> None:
        pk, source, target = rng.choice(list(recent))
        messaging_services.comment_create(
            actor=actors[rng.choice((source, target))], target=Referral.objects.get(pk=pk), body="Rückfrage zum Stand"
        )

    def outsider_comment() -> None:
        person_id, _consent = rng.choice(persons[OUTSIDER])
        messaging_services.comment_create(
            actor=actors[OUTSIDER],
            target=Person.objects.get(pk=person_id),
            body="Termin vereinbart",
            category="identity",
        )

    # One cycle of steps; a step whose queue is empty sends a referral instead.
    cycle = ["send", "receive", "answer", "comment", "send", "receive", "answer", "outsider_comment"]
    steps = {
        "send": send,
        "receive": receive,
        "answer": answer,
        "comment": comment,
        "outsider_comment": outsider_comment,
    }
    ready = {"receive": sent, "answer": received, "comment": recent}

    halt = threading.Event()
    emit("waiting")
    if not sys.stdin.readline().startswith("go"):
        return

    def wait_for_stop() -> None:
        sys.stdin.readline()
        halt.set()

    threading.Thread(target=wait_for_stop, daemon=True).start()

    commits: list[tuple[int, str, int]] = []
    done: collections.Counter[str] = collections.Counter()
    errors: list[str] = []
    behind = 0
    started = time.monotonic()
    number = 0
    while not halt.is_set():
        delay = started + number / spec["rate"] - time.monotonic()
        if delay > 0:
            if halt.wait(delay):
                break
        elif delay < -0.05:
            behind += 1
        name = cycle[number % len(cycle)]
        if name in ready and not ready[name]:
            name = "send"
        number += 1
        stamp: list[int] = []
        published.clear()
        try:
            with transaction.atomic():
                # Registered first, so it runs first after COMMIT: before the broadcast.
                transaction.on_commit(functools.partial(stamp_commit, stamp))
                steps[name]()
        except Exception as error:  # counted and reported: a soak's services must not fail
            errors.append(f"{name}: {type(error).__name__}: {error}")
            published.clear()
        else:
            done[name] += 1
            commits.extend((event_id, verb, stamp[0]) for event_id, verb in published)
        close_old_connections()
    elapsed = time.monotonic() - started
    Path(spec["out"]).write_text(
        json.dumps({"commits": commits, "steps": dict(done), "errors": errors, "behind": behind, "elapsed": elapsed})
    )
    emit("done")


# --------------------------------------------------------------------------- staff in the browser


# (action, weight) per kind of agency; the API steps fall back to reading the API inbox when nothing waits.
ROUND_TABLE_MIX = (
    ("dashboard", 12),
    ("inbox", 14),
    ("person", 18),
    ("search", 12),
    ("flats", 8),
    ("referrals", 8),
    ("figures", 4),
    ("workspace_figures", 2),
    ("api_inbox", 6),
    ("api_create", 6),
    ("api_answer", 10),
)
OUTSIDER_MIX = (
    ("dashboard", 15),
    ("inbox", 15),
    ("person", 20),
    ("search", 15),
    ("flats", 8),
    ("referrals", 8),
    ("figures", 4),
    ("agency_figures", 3),
    ("api_inbox", 6),
    ("api_comment", 6),
)
# The pages they read, by action; the search looks for a person's surname less its last letter.
PAGES = {
    "dashboard": "/",
    "inbox": "/inbox/",
    "person": "/persons/{person_id}/",
    "search": "/persons/",
    "flats": "/housing/",
    "referrals": "/referrals/",
    "figures": "/figures/",
    "workspace_figures": "/workspaces/{workspace}/figures/",
    "agency_figures": "/agencies/{agency_id}/figures/",
}


class Staff:
    """Shared state of the simulated staff: referrals created through the API wait for their receiver."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.base: str = spec["base"]
        self.lock = threading.Lock()
        self.incoming: dict[int, collections.deque[int]] = collections.defaultdict(collections.deque)
        self.received: dict[int, collections.deque[int]] = collections.defaultdict(collections.deque)
        self.stats: dict[str, dict[str, Any]] = collections.defaultdict(
            lambda: {"requests": 0, "errors": 0, "statuses": collections.Counter(), "ms": []}
        )
        self.errors: list[dict[str, Any]] = []
        self.halt = threading.Event()

    def record(self, action: str, status: int | str, expected: int, millis: float, body: str) -> None:
        with self.lock:
            stats = self.stats[action]
            stats["requests"] += 1
            stats["statuses"][str(status)] += 1
            stats["ms"].append(millis)
            if status != expected:
                stats["errors"] += 1
                if len(self.errors) < 50:
                    self.errors.append({"action": action, "status": status, "body": body[:300], "at": time.time()})

    def request(
        self, session: Any, action: str, method: str, path: str, expected: int, **kwargs: Any
    ) -> dict[str, Any] | None:
        started = time.perf_counter()
        try:
            response = session.request(method, self.base + path, timeout=60, allow_redirects=False, **kwargs)
            body = response.text
            status: int | str = response.status_code
        except Exception as error:
            body, status = "", type(error).__name__
        self.record(action, status, expected, 1000 * (time.perf_counter() - started), body)
        if status == expected and method == "POST":
            with contextlib.suppress(ValueError):
                answer: dict[str, Any] = json.loads(body)
                return answer
        return None

    def run_user(self, user: dict[str, Any], seed: int) -> None:
        import requests

        rng = random.Random(seed)
        mix = OUTSIDER_MIX if user["agency"] == OUTSIDER else ROUND_TABLE_MIX
        actions, weights = [a for a, _ in mix], [w for _, w in mix]
        page = requests.Session()
        page.headers["Cookie"] = user["cookie"]
        api = requests.Session()
        api.headers["Authorization"] = f"Token {user['token']}"
        persons: list[list[Any]] = user["persons"]
        due = (datetime.date.today() + datetime.timedelta(days=14)).isoformat()  # noqa: DTZ011 (a date far enough ahead)
        rate: float = self.spec["rate"]
        next_at = time.monotonic() + rng.expovariate(rate)
        while not self.halt.is_set():
            if self.halt.wait(max(0.0, next_at - time.monotonic())):
                return
            next_at += rng.expovariate(rate)  # Poisson arrivals: slow answers do not lower the rate
            action = rng.choices(actions, weights)[0]
            person_id, consent_id, last_name = rng.choice(persons)
            if action in PAGES:
                path = PAGES[action].format(
                    person_id=person_id, agency_id=user["agency_id"], workspace=self.spec["workspace"]
                )
                params = {"q": last_name[:-1]} if action == "search" else None
                self.request(page, action, "GET", path, 200, params=params)
            elif action == "api_create":
                target = rng.choice([key for key in ROUND_TABLE if key != user["agency"]])
                to_agency = self.spec["agencies"][target]
                body = {
                    "person": person_id,
                    "to_agency": to_agency,
                    "reason": "Dauerlauf über die API",
                    "categories": CATEGORIES,
                    "legal_basis": "consent",
                    "consent": consent_id,
                    "answer_due_on": due,
                }
                created = self.request(api, action, "POST", "/api/v1/referrals/", 201, json=body)
                if created is not None:
                    with self.lock:
                        self.incoming[to_agency].append(int(created["id"]))
            elif action == "api_comment":
                body = {"body": "Vorsprache am Montag", "category": "identity"}
                self.request(api, action, "POST", f"/api/v1/persons/{person_id}/comments/", 201, json=body)
            else:  # api_answer, or api_inbox
                step, pk = None, None
                if action == "api_answer":
                    with self.lock:
                        if self.received[user["agency_id"]]:
                            step, pk = "accept", self.received[user["agency_id"]].popleft()
                        elif self.incoming[user["agency_id"]]:
                            step, pk = "receive", self.incoming[user["agency_id"]].popleft()
                if step is None:
                    self.request(api, "api_inbox", "GET", "/api/v1/referrals/inbox/", 200)
                    continue
                path = f"/api/v1/referrals/{pk}/transition/"
                if self.request(api, f"api_{step}", "POST", path, 200, json={"action": step}) and step == "receive":
                    with self.lock:
                        self.received[user["agency_id"]].append(pk)  # type: ignore[arg-type]

    def summary(self) -> dict[str, Any]:
        routes = {}
        for action, stats in sorted(self.stats.items()):
            millis = sorted(stats["ms"])
            routes[action] = {
                "requests": stats["requests"],
                "errors": stats["errors"],
                "statuses": dict(stats["statuses"]),
                "p50_ms": round(percentile(millis, 0.5), 1),
                "p99_ms": round(percentile(millis, 0.99), 1),
                "max_ms": round(millis[-1], 1) if millis else math.nan,
            }
        return {
            "requests": sum(s["requests"] for s in self.stats.values()),
            "errors": sum(s["errors"] for s in self.stats.values()),
            "routes": routes,
            "error_samples": self.errors,
            "left_waiting": sum(len(q) for q in self.incoming.values()) + sum(len(q) for q in self.received.values()),
        }


def http_main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    staff = Staff(spec)
    threads = [
        threading.Thread(target=staff.run_user, args=(user, spec["seed"] + number), daemon=True)
        for number, user in enumerate(spec["users"])
    ]
    emit("waiting")
    if not sys.stdin.readline().startswith("go"):
        return
    started = time.monotonic()
    for thread in threads:
        thread.start()
    sys.stdin.readline()  # stop
    staff.halt.set()
    for thread in threads:
        thread.join(timeout=90)
    result = staff.summary() | {"elapsed": time.monotonic() - started}
    Path(spec["out"]).write_text(json.dumps(result))
    emit("done")


# --------------------------------------------------------------------------- data


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """Agencies, staff, a round table, persons with consents and flats: all through the services."""
    from decimal import Decimal

    from django.utils import timezone

    from agencies import services as agency_services
    from agencies.models import User
    from housing import services as housing_services
    from referrals import services as referral_services

    run = secrets.token_hex(3)
    agencies: dict[str, Any] = {}
    for key, name, kind in AGENCIES:
        agencies[key] = agency_services.agency_create(
            actor=None, name=f"{name} (Dauerlauf {run})", short_name=f"{name[:8]}-{run}", kind=kind, city="Nordhorn"
        )
    staff: dict[str, list[Any]] = {}
    for key, _name, _kind in AGENCIES:
        staff[key] = []
        for number in range(args.staff):
            # Accounts are not a service of the hub (people arrive by invitation); memberships are.
            user = User.objects.create(
                username=f"soak-{run}-{key}-{number}", first_name="Dauer", last_name=f"{key} {number}"
            )
            agency_services.staff_create(actor=None, agency=agencies[key], user=user, roles=["caseworker"])
            staff[key].append(user)
    workspace = agency_services.workspace_create(
        actor=None,
        name=f"Runder Tisch Dauerlauf {run}",
        coordinator_agency=agencies["jobcenter"],
        agencies=[agencies["social"], agencies["youth"]],
    )
    housing = User.objects.create(username=f"soak-{run}-social-housing", first_name="Dauer", last_name="Wohnungen")
    agency_services.staff_create(actor=None, agency=agencies["social"], user=housing, roles=["housing_officer"])
    for number in range(LISTINGS):
        listing = housing_services.listing_create(
            actor=housing,
            owner_agency=agencies["social"],
            title=f"{2 + number % 3}-Zimmer-Wohnung",
            street=f"Lindenallee {number + 1}",
            postcode="48529",
            city="Nordhorn",
            district="Nordhorn-Mitte",
            comparison_area="Vergleichsraum Stadt",
            rooms=Decimal(2 + number % 3),
            living_space=Decimal("62.5"),
            floor=number % 4,
            has_lift=False,
            accessibility=0,
            base_rent=Decimal("420.00"),
            running_costs=Decimal("130.00"),
            heating_costs=Decimal("90.00"),
            available_from=timezone.localdate(),
            lease_holder="county",
            landlord_name="Kreiswohnbau",
            landlord_phone="05921 1234",
        )
        housing_services.listing_share(actor=housing, listing=listing, workspace=workspace)
        housing_services.listing_transition(actor=housing, listing=listing, action="publish")

    persons: dict[str, list[tuple[int, int | None, str]]] = {}
    for key, _name, _kind in AGENCIES:
        persons[key] = []
        actor = staff[key][0]
        others = [agencies[other] for other in ROUND_TABLE if other != key]
        for number in range(args.persons):
            last_name = f"Lauf{key.capitalize()}{number:03d}"
            person = referral_services.person_create(
                actor=actor,
                agency=agencies[key],
                first_name="Dauer",
                last_name=last_name,
                birth_date=datetime.date(1980 + number % 30, 1 + number % 12, 1),
                nationality="syrisch",
                city="Nordhorn",
            )
            consent_id = None
            if key != OUTSIDER:  # the outsider refers nobody: its persons stay its own
                consent_id = referral_services.consent_record(
                    actor=actor,
                    person=person,
                    categories=CATEGORIES,
                    recipients=others,
                    purpose="Dauerlauf",
                    text_version="2026-01",
                ).pk
            persons[key].append((person.pk, consent_id, last_name))
    tokens = {user.pk: agency_services.api_token_create(actor=user) for users in staff.values() for user in users}
    return {
        "run": run,
        "agencies": {key: agency.pk for key, agency in agencies.items()},
        "staff": {key: [user.pk for user in users] for key, users in staff.items()},
        "workspace": workspace.pk,
        "persons": persons,
        "tokens": {str(pk): token for pk, token in tokens.items()},
    }


def log_in(user_ids: list[int]) -> dict[int, str]:
    """A session cookie per user (``django.contrib.auth.login`` into the session engine), fresh for each phase."""
    from django.conf import settings
    from django.test import Client

    from agencies.models import User

    cookies = {}
    for user in User.objects.filter(pk__in=user_ids):
        client = Client()
        client.force_login(user)
        cookies[user.pk] = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return cookies


def newest_event_id() -> int:
    from hub.models import Event

    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def expected_events(window: tuple[int, int], user_ids: list[int]) -> tuple[list[list[int]], dict[str, int]]:
    """Per user (in the order given): the events of the window whose audience meets the user's groups."""
    from agencies.models import User
    from hub import access
    from hub.models import Event

    users = {user.pk: user for user in User.objects.filter(pk__in=user_ids)}
    groups = {pk: access.groups_for(user) for pk, user in users.items()}
    expected: dict[int, list[int]] = {pk: [] for pk in user_ids}
    verbs: collections.Counter[str] = collections.Counter()
    for event_id, verb, audience in (
        Event.objects.filter(id__gt=window[0], id__lte=window[1]).order_by("id").values_list("id", "verb", "audience")
    ):
        verbs[verb] += 1
        for pk in user_ids:
            if not groups[pk].isdisjoint(audience):
                expected[pk].append(event_id)
    return [expected[pk] for pk in user_ids], dict(verbs)


# --------------------------------------------------------------------------- one phase


class Soak:
    def __init__(self, args: argparse.Namespace, workdir: Path, data: dict[str, Any], postgres: PostgresMeter) -> None:
        self.args = args
        self.workdir = workdir
        self.data = data
        self.postgres = postgres
        self.processes: list[subprocess.Popen[str]] = []

    def spawn(self, arguments: list[str], log: str, env: dict[str, str], quiet: bool = False) -> subprocess.Popen[str]:
        stderr: IO[str] = (self.workdir / log).open("a")
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
            arguments,
            cwd=REPO,
            env=os.environ | env,
            stdin=subprocess.PIPE,
            stdout=stderr if quiet else subprocess.PIPE,  # a server's stdout is never read: a full pipe would stall it
            stderr=stderr,
            text=True,
            bufsize=1,
        )
        self.processes.append(process)
        return process

    def role(self, role: str, spec: dict[str, Any], name: str, env: dict[str, str]) -> subprocess.Popen[str]:
        path = self.workdir / f"{name}-spec.json"
        path.write_text(json.dumps(spec))
        return self.spawn([sys.executable, str(SCRIPT), "--role", role, "--spec", str(path)], f"{name}.log", env)

    def warm_up(self, ws_url: str, http_base: str, cookie: str, workers: int) -> None:
        """One socket and a few pages through the whole path, so that lazy imports count before, not during."""
        import requests

        async def once() -> None:
            from websockets.asyncio.client import connect

            async with connect(ws_url, origin=f"http://{ORIGIN_HOST}", additional_headers={"Cookie": cookie}) as ws:  # type: ignore[arg-type]
                await ws.send(json.dumps({"type": "hello", "last_event_id": 2**62}))
                await asyncio.wait_for(ws.recv(), timeout=30)

        asyncio.run(once())
        for _ in range(3 * workers):
            for path in ("/", "/inbox/", "/housing/"):
                requests.get(http_base + path, headers={"Cookie": cookie}, timeout=60, allow_redirects=False)

    def run(self, layer: str, duration: float) -> dict[str, Any]:
        args, data = self.args, self.data
        env = {"DJANGO_SETTINGS_MODULE": self.data["settings"][layer]}
        tag = layer
        ws_port, http_port = free_port(), free_port()
        uvicorn = self.spawn(
            [
                sys.executable,
                "-m",
                "uvicorn",
                LAYERS[layer][1],
                "--ws",
                "websockets-sansio",
                "--ws-per-message-deflate",
                "false",
                "--workers",
                "1",
                "--host",
                ORIGIN_HOST,
                "--port",
                str(ws_port),
                "--proxy-headers",
                "--log-level",
                "warning",
            ],
            f"uvicorn-{tag}.log",
            env,
            quiet=True,
        )
        gunicorn = self.spawn(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "hub.wsgi",
                "-w",
                str(args.gunicorn_workers),
                "-b",
                f"{ORIGIN_HOST}:{http_port}",
                "--log-level",
                "warning",
            ],
            f"gunicorn-{tag}.log",
            env,
            quiet=True,
        )
        started: list[subprocess.Popen[str]] = []
        try:
            wait_for_port(ws_port, uvicorn)
            wait_for_port(http_port, gunicorn)
            # The sockets' users, the agencies interleaved: any number of sockets spreads over all four.
            order = [data["staff"][key][number] for number in range(args.staff) for key, *_ in AGENCIES]
            agency_of = {pk: key for key, users in data["staff"].items() for pk in users}
            cookies = log_in(order)
            ws_url = f"ws://{ORIGIN_HOST}:{ws_port}/ws/"
            http_base = f"http://{ORIGIN_HOST}:{http_port}"
            self.warm_up(ws_url, http_base, cookies[order[0]], args.gunicorn_workers)
            time.sleep(2)
            workers = process_children(gunicorn.pid)

            say(f"[{layer}] {args.sockets} sockets connecting")
            start_id = newest_event_id()
            clients, outputs = [], []
            share = [
                args.sockets // args.client_procs + (i < args.sockets % args.client_procs)
                for i in range(args.client_procs)
            ]
            offset = 0
            for number, part in enumerate(share):
                out = self.workdir / f"{tag}-client{number}.json"
                spec = {
                    "url": ws_url,
                    "origin": f"http://{ORIGIN_HOST}",
                    "cookies": [cookies[pk] for pk in order],
                    "count": part,
                    "offset": offset,
                    "start_id": start_id,
                    "out": str(out),
                }
                offset += part
                clients.append(self.role("client", spec, f"{tag}-client{number}", env))
                outputs.append(out)
            started += clients
            connect_began = time.monotonic()
            connected = sum(expect(client, "ready", timeout=900)["count"] for client in clients)
            connect_s = time.monotonic() - connect_began
            assert connected == args.sockets, f"{connected} of {args.sockets} sockets connected"

            publisher_out = self.workdir / f"{tag}-publisher.json"
            publisher = self.role(
                "publisher",
                {
                    "actors": {key: users[0] for key, users in data["staff"].items()},
                    "agencies": data["agencies"],
                    "persons": data["persons"],
                    "rate": args.event_rate,
                    "seed": args.seed,
                    "out": str(publisher_out),
                },
                f"{tag}-publisher",
                env,
            )
            http_out = self.workdir / f"{tag}-http.json"
            users = [
                {
                    "agency": key,
                    "agency_id": data["agencies"][key],
                    "cookie": cookies[pk],
                    "token": data["tokens"][str(pk)],
                    "persons": data["persons"][key],
                }
                for key, *_ in AGENCIES
                for pk in data["staff"][key][1 : 1 + args.http_users]
            ]
            http = self.role(
                "http",
                {
                    "base": http_base,
                    "users": users,
                    "rate": args.http_rate / len(users),
                    "agencies": data["agencies"],
                    "workspace": data["workspace"],
                    "seed": args.seed,
                    "out": str(http_out),
                },
                f"{tag}-http",
                env,
            )
            started += [publisher, http]
            expect(publisher, "waiting", timeout=120)
            expect(http, "waiting", timeout=120)

            time.sleep(1)
            named = {"uvicorn": uvicorn.pid, "gunicorn master": gunicorn.pid}
            named |= {f"gunicorn worker {i}": pid for i, pid in enumerate(workers)}
            named |= {"publisher": publisher.pid, "http clients": http.pid}
            named |= {f"ws client {i}": c.pid for i, c in enumerate(clients)}
            redis = redis_pid(os.environ["REDIS_URL"])
            if redis is not None:
                named["redis"] = redis
            say(f"[{layer}] waiting up to {args.quiet_wait:g} s for a quiet machine")
            load_before = wait_for_quiet(args.quiet_wait, list(named.values()))

            say(
                f"[{layer}] {duration:g} s of traffic: {args.http_rate:g} req/s from {len(users)} staff, "
                f"{args.event_rate:g} service steps/s, {args.sockets} sockets"
            )
            samples: list[dict[str, Any]] = []

            def sample(at: float) -> None:
                rss, cpu = {}, {}
                for name, pid in named.items():
                    with contextlib.suppress(OSError, RuntimeError):
                        rss[name] = rss_kib(pid)
                        cpu[name] = cpu_seconds(pid)
                busy, total = machine_busy()
                samples.append(
                    {
                        "t": round(at, 2),
                        "rss_kib": rss,
                        "cpu_s": cpu,
                        "postgres_s": self.postgres.seconds(),
                        "busy": busy,
                        "total": total,
                    }
                )

            go = time.monotonic()
            go_ns = time.time_ns()
            tell(publisher, "go")
            tell(http, "go")
            sample(0.0)
            next_sample = go + args.sample
            while time.monotonic() < go + duration:
                time.sleep(max(0.0, min(next_sample, go + duration) - time.monotonic()))
                if time.monotonic() >= next_sample:
                    sample(time.monotonic() - go)
                    next_sample += args.sample
                for process in (uvicorn, gunicorn, publisher, http, *clients):
                    if process.poll() is not None:
                        raise RuntimeError(f"process {process.pid} ({process.args!r:.80}) ended during the soak")
            if time.monotonic() - go - samples[-1]["t"] > 1:
                sample(time.monotonic() - go)  # the last one while every process still runs
            tell(publisher, "stop")
            tell(http, "stop")
            expect(publisher, "done", timeout=300)
            expect(http, "done", timeout=300)
            traffic_s = time.monotonic() - go
            end_id = newest_event_id()
            say(f"[{layer}] traffic ended after {traffic_s:.0f} s; {args.drain:g} s for the gap repair")
            time.sleep(args.drain)
            drain_rss = {name: rss_kib(pid) for name, pid in named.items() if name in ("uvicorn",)}

            expected, verbs = expected_events((start_id, end_id), order)
            publisher_result = json.loads(publisher_out.read_text())
            commits = {str(event_id): stamp for event_id, _verb, stamp in publisher_result["commits"]}
            judge = self.workdir / f"{tag}-judge.json"
            judge.write_text(
                json.dumps(
                    {
                        "window": [start_id, end_id],
                        "expected": expected,
                        "agency_of_cookie": [agency_of[pk] for pk in order],
                    }
                )
            )
            commits_path = self.workdir / f"{tag}-commits.json"
            commits_path.write_text(json.dumps(commits))
            for client in clients:
                tell(client, f"stop {judge} {commits_path}")
            for client in clients:
                expect(client, "done", timeout=900)
                client.wait(timeout=60)
            http_result = json.loads(http_out.read_text())
            return summarise(
                layer=layer,
                duration=duration,
                traffic_s=traffic_s,
                go_ns=go_ns,
                warm_up=min(args.warm_up, duration / 3),
                samples=samples,
                outputs=outputs,
                publisher=publisher_result,
                http=http_result,
                verbs=verbs,
                window=(start_id, end_id),
                connect_s=connect_s,
                load_before=load_before,
                drain_rss=drain_rss,
                sockets=args.sockets,
            )
        finally:
            for process in started:
                stop(process)
            stop(uvicorn)
            stop(gunicorn)

    def close(self) -> None:
        for process in self.processes:
            stop(process)


# --------------------------------------------------------------------------- figures


def summarise(
    *,
    layer: str,
    duration: float,
    traffic_s: float,
    go_ns: int,
    warm_up: float,
    samples: list[dict[str, Any]],
    outputs: list[Path],
    publisher: dict[str, Any],
    http: dict[str, Any],
    verbs: dict[str, int],
    window: tuple[int, int],
    connect_s: float,
    load_before: float,
    drain_rss: dict[str, int],
    sockets: int,
) -> dict[str, Any]:
    per_agency: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    other: collections.Counter[str] = collections.Counter()
    drops: list[dict[str, Any]] = []
    leak_samples: list[list[int]] = []
    received: list[int] = []
    latency_ids, latency_us = array("q"), array("q")
    for path in outputs:
        result = json.loads(path.read_text())
        for key, counts in result["per_agency"].items():
            per_agency[key].update(counts)
        other.update(result["other_messages"])
        drops += result["drops"]
        leak_samples += result["leak_samples"]
        received += result["received_per_socket"]
        for suffix, into in ((".ids", latency_ids), (".lat", latency_us)):
            raw = path.with_suffix(suffix).read_bytes()
            into.frombytes(raw)
    total: collections.Counter[str] = collections.Counter()
    for counts in per_agency.values():
        total.update(counts)

    # Latency of the events the publisher stamped, overall and per minute of the run.
    commit_of = {event_id: stamp for event_id, _verb, stamp in publisher["commits"]}
    millis = sorted(value / 1000 for value in latency_us)
    by_minute: dict[int, list[float]] = collections.defaultdict(list)
    for event_id, value in zip(latency_ids, latency_us, strict=True):
        by_minute[int((commit_of[event_id] - go_ns) // 60_000_000_000)].append(value / 1000)
    minutes = []
    for minute in sorted(by_minute):
        values = sorted(by_minute[minute])
        minutes.append(
            {
                "minute": minute,
                "p50_ms": round(percentile(values, 0.5), 1),
                "p99_ms": round(percentile(values, 0.99), 1),
            }
        )

    # CPU over the traffic, per process, and what the machine did besides.
    first, last = samples[0], samples[-1]
    span = last["t"] - first["t"]
    cores = os.cpu_count() or 1
    cpu = {}
    for name in last["cpu_s"]:
        if name in first["cpu_s"]:
            cpu[name] = round(100 * (last["cpu_s"][name] - first["cpu_s"][name]) / span, 1)
    cpu["postgres (this database)"] = round(100 * (last["postgres_s"] - first["postgres_s"]) / span, 1)
    machine = round(100 * cores * (last["busy"] - first["busy"]) / max(1, last["total"] - first["total"]), 1)
    cpu["other"] = round(machine - sum(cpu.values()), 1)
    cpu["machine (of 100 x cores)"] = machine
    other_series = []
    for before, after in zip(samples, samples[1:], strict=False):
        step = after["t"] - before["t"]
        ours = sum(after["cpu_s"].get(n, 0) - before["cpu_s"].get(n, 0) for n in after["cpu_s"] if n in before["cpu_s"])
        ours += after["postgres_s"] - before["postgres_s"]
        busy = 100 * cores * (after["busy"] - before["busy"]) / max(1, after["total"] - before["total"])
        other_series.append(round(busy - 100 * ours / step, 1))
    uvicorn_cpu_s = last["cpu_s"]["uvicorn"] - first["cpu_s"]["uvicorn"]
    redis_cpu_s = last["cpu_s"].get("redis", 0) - first["cpu_s"].get("redis", 0)
    gunicorn_cpu_s = sum(
        last["cpu_s"][name] - first["cpu_s"][name]
        for name in last["cpu_s"]
        if name.startswith("gunicorn") and name in first["cpu_s"]
    )
    publisher_cpu_s = last["cpu_s"]["publisher"] - first["cpu_s"]["publisher"]
    deliveries = total["deliveries"]

    # Memory: after the warm-up, start, end and the least-squares slope per process.
    memory = {}
    names = [n for n in last["rss_kib"] if n == "uvicorn" or n.startswith("gunicorn") or n in {"redis", "publisher"}]
    for name in names:
        points = [
            (s["t"] / 60, float(s["rss_kib"][name])) for s in samples if s["t"] >= warm_up and name in s["rss_kib"]
        ]
        if not points:
            continue
        fit = trend(points)
        # The second half alone: whether growth that the whole fit shows has stopped by the end.
        late = trend([p for p in points if p[0] >= (points[0][0] + points[-1][0]) / 2])
        start, end = points[0][1], points[-1][1]
        minutes_fitted = points[-1][0] - points[0][0]
        growth = fit["slope_kib_per_min"] * minutes_fitted / start * 100 if start else math.nan
        # The verdict reads the second half: memory that grew while caches and pools filled and then
        # stopped is not growing; the second half's slope, kept up for the whole run, must stay
        # under 3 % of the start, or be indistinguishable from zero.
        late_growth = late["slope_kib_per_min"] * minutes_fitted / start * 100 if start else math.nan
        low = late["slope_kib_per_min"] - late["ci95_kib_per_min"]
        high = late["slope_kib_per_min"] + late["ci95_kib_per_min"]
        memory[name] = {
            "first_kib": samples[0]["rss_kib"].get(name),
            "start_kib": int(start),
            "end_kib": int(end),
            "slope_kib_per_min": round(fit["slope_kib_per_min"], 1),
            "ci95_kib_per_min": round(fit["ci95_kib_per_min"], 1),
            "fitted_minutes": round(minutes_fitted, 2),
            "growth_over_fit_pct": round(growth, 2),
            "second_half_slope_kib_per_min": round(late["slope_kib_per_min"], 1),
            "second_half_ci95_kib_per_min": round(late["ci95_kib_per_min"], 1),
            "second_half_growth_over_fit_pct": round(late_growth, 2),
            "flat": bool(low <= 0 <= high or abs(late_growth) < 3),
            "series_kib": [s["rss_kib"].get(name) for s in samples],
        }
    if "uvicorn" in drain_rss and "uvicorn" in memory:
        memory["uvicorn"]["after_drain_kib"] = drain_rss["uvicorn"]

    events = window[1] - window[0]
    publisher_events = len(commit_of)
    return {
        "layer": layer,
        "backend": LAYERS[layer][0],
        "consumer": LAYERS[layer][1],
        "duration_s": duration,
        "traffic_s": round(traffic_s, 1),
        "warm_up_s": warm_up,
        "sockets": sockets,
        "connect_s": round(connect_s, 1),
        "load_before": load_before,
        "http": http | {"per_s": round(http["requests"] / max(1e-9, http["elapsed"]), 1)},
        "services": {k: publisher[k] for k in ("steps", "errors", "behind", "elapsed")},
        "events": {
            "total": events,
            "from_services": publisher_events,
            "other": events - publisher_events,
            "per_s": round(events / traffic_s, 1),
            "verbs": verbs,
        },
        "delivery": {
            "expected": total["expected"],
            "deliveries": deliveries,
            "lost_live": total["lost_live"],
            "caught_up": total["caught_up"],
            "lost_after_catch_up": total["lost_after_catch_up"] + total["reload_needed"] + total["catch_up_failed"],
            "reload_needed": total["reload_needed"],
            "leaks": total["leaks"],
            "duplicates": total["duplicates"],
            "outside_window": total["outside_window"],
            "per_s": round(deliveries / traffic_s, 0),
            "per_agency": {key: dict(counts) for key, counts in sorted(per_agency.items())},
            "other_messages": dict(other),
            "received_per_socket": {
                "min": min(received, default=0),
                "mean": round(statistics.fmean(received), 1) if received else 0,
                "max": max(received, default=0),
            },
            "socket_drops": len(drops),
            "drop_samples": drops[:20],
            "leak_samples": leak_samples[:20],
        },
        "latency": {
            "events": publisher_events,
            "deliveries": len(millis),
            "p50_ms": round(percentile(millis, 0.5), 1),
            "p90_ms": round(percentile(millis, 0.9), 1),
            "p99_ms": round(percentile(millis, 0.99), 1),
            "max_ms": round(millis[-1], 1) if millis else math.nan,
            "per_minute": minutes,
        },
        "cpu": cpu,
        "other_cpu_per_sample": other_series,
        "uvicorn_cpu_us_per_delivery": round(1e6 * uvicorn_cpu_s / max(1, deliveries), 1),
        "redis_cpu_us_per_delivery": round(1e6 * redis_cpu_s / max(1, deliveries), 1),
        "gunicorn_cpu_ms_per_request": round(1e3 * gunicorn_cpu_s / max(1, http["requests"]), 1),
        "publisher_cpu_ms_per_step": round(1e3 * publisher_cpu_s / max(1, sum(publisher["steps"].values())), 1),
        "memory": memory,
        "sample_s": [s["t"] for s in samples],
    }


def failures(phase: dict[str, Any]) -> list[str]:
    """What makes a phase fail: errors, lost or leaked events, memory growth."""
    found = []
    if phase["http"]["errors"]:
        found.append(f"{phase['http']['errors']} HTTP errors")
    if phase["services"]["errors"]:
        found.append(f"{len(phase['services']['errors'])} service errors")
    delivery = phase["delivery"]
    for key in ("lost_after_catch_up", "leaks", "duplicates", "socket_drops"):
        if delivery[key]:
            found.append(f"{delivery[key]} {key.replace('_', ' ')}")
    for name, memory in phase["memory"].items():
        if (name == "uvicorn" or name.startswith("gunicorn worker")) and not memory["flat"]:
            late = f"{memory['second_half_slope_kib_per_min']} ± {memory['second_half_ci95_kib_per_min']} KiB/min"
            found.append(f"{name} still grows in the second half: {late}")
    return found


# --------------------------------------------------------------------------- README


def mib(kib: float | None) -> str:
    return "–" if kib is None else f"{kib / 1024:.1f}"


def soak_table(result: dict[str, Any]) -> list[str]:
    lines = [
        f"Soak measured {result['date']} with `{result['command']}` ({result['gunicorn_workers']} gunicorn workers, "
        f"{result['client_procs']} websocket client processes, priority {result['nice']:+d}):",
        "",
        "| layer | duration | sockets | HTTP requests (/s) / errors | events (/s) | deliveries | lost live / after "
        "catch-up | leaks | latency p50 / p99 (ms) | CPU % uvicorn / gunicorn / PostgreSQL / other |",
        "|---|---:|---:|---|---|---:|---|---:|---|---|",
    ]
    for phase in result["phases"]:
        cpu, delivery, latency = phase["cpu"], phase["delivery"], phase["latency"]
        gunicorn = sum(v for k, v in cpu.items() if k.startswith("gunicorn"))
        lines.append(
            f"| {phase['layer']} | {phase['traffic_s']:.0f} s | {phase['sockets']} "
            f"| {phase['http']['requests']} ({phase['http']['per_s']:g}) / {phase['http']['errors']} "
            f"| {phase['events']['total']} ({phase['events']['per_s']:g}) | {delivery['deliveries']} "
            f"| {delivery['lost_live']} / {delivery['lost_after_catch_up']} | {delivery['leaks']} "
            f"| {ms(latency['p50_ms'])} / {ms(latency['p99_ms'])} "
            f"| {cpu['uvicorn']:.0f} / {gunicorn:.0f} / {cpu['postgres (this database)']:.0f} / {cpu['other']:.0f} |"
        )
    lines += [
        "",
        "| layer | process | RSS first / after warm-up / end (MiB) | slope (KiB/min, 95 %) | growth over the fit "
        "| slope of the second half (KiB/min) |",
        "|---|---|---|---|---:|---|",
    ]
    for phase in result["phases"]:
        for name, memory in phase["memory"].items():
            if name != "uvicorn" and not name.startswith("gunicorn worker"):
                continue
            lines.append(
                f"| {phase['layer']} | {name} | {mib(memory['first_kib'])} / {mib(memory['start_kib'])} / "
                f"{mib(memory['end_kib'])} | {memory['slope_kib_per_min']:+.0f} ± {memory['ci95_kib_per_min']:.0f} "
                f"| {memory['growth_over_fit_pct']:+.1f} % "
                f"| {memory['second_half_slope_kib_per_min']:+.0f} ± {memory['second_half_ci95_kib_per_min']:.0f} |"
            )
    return lines


def layers_table(result: dict[str, Any]) -> list[str]:
    phases = {phase["layer"]: phase for phase in result["phases"]}
    lines = [
        f"Channel layers measured {result['date']} with `{result['command']}`:",
        "",
        "| layer | latency p50 / p99 / max (ms) | deliveries/s | lost live / after catch-up | duplicates "
        "| CPU per delivery uvicorn / Redis (µs) | publisher CPU per step (ms) | CPU % uvicorn / Redis / other |",
        "|---|---|---:|---|---:|---|---:|---|",
    ]
    for layer, phase in phases.items():
        latency, delivery, cpu = phase["latency"], phase["delivery"], phase["cpu"]
        lines.append(
            f"| {layer} (`{phase['backend'].rsplit('.', 1)[1]}`) | {ms(latency['p50_ms'])} / {ms(latency['p99_ms'])} / "
            f"{ms(latency['max_ms'])} | {delivery['per_s']:.0f} | {delivery['lost_live']} / "
            f"{delivery['lost_after_catch_up']} | {delivery.get('duplicates', 0)} "
            f"| {phase['uvicorn_cpu_us_per_delivery']:g} / "
            f"{phase['redis_cpu_us_per_delivery']:g} | {phase['publisher_cpu_ms_per_step']:g} "
            f"| {cpu['uvicorn']:.0f} / {cpu.get('redis', 0):.0f} / "
            f"{cpu['other']:.0f} |"
        )
    hub = phases.get("pubsub")
    for layer, naive in phases.items():
        if hub is None or naive is hub:
            continue
        p50, p99 = (naive["latency"][key] / max(1e-9, hub["latency"][key]) for key in ("p50_ms", "p99_ms"))
        cpu_ratio = naive["uvicorn_cpu_us_per_delivery"] / max(1e-9, hub["uvicorn_cpu_us_per_delivery"])
        lines += ["", f"{layer} over pubsub: p50 {p50:.2f}×, p99 {p99:.2f}×, uvicorn CPU/delivery {cpu_ratio:.2f}×."]
    return lines


def readme_section(result: dict[str, Any]) -> str:
    """The soak table from the newest soak (one layer) and the layer table from the newest comparison."""
    tables = {"soak": soak_table, "layers": layers_table}
    latest: dict[str, dict[str, Any]] = {}
    for path in sorted(RESULTS_DIR.glob("soak-*.json")):
        with contextlib.suppress(ValueError, KeyError):  # files of older versions of this script are left out
            other = json.loads(path.read_text())
            tables[kind_of(other)](other)
            latest[kind_of(other)] = other
    latest[kind_of(result)] = result
    lines = [README_BEGIN]
    for kind, table in tables.items():
        if kind in latest:
            lines += table(latest[kind]) + [""]
    facts = result["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in facts["versions"].items())
    lines += [
        f"Machine: {facts['cpus']} CPUs ({facts['cpu_model']}), {facts['memory']}, Python {facts['python']}, "
        f"PostgreSQL {facts['postgresql']}, Redis {facts['redis']}; {versions}. Full figures: "
        + ", ".join(f"`bench/results/{r['file']}`" for r in latest.values())
        + ".",
        README_END,
    ]
    return "\n".join(lines)


def kind_of(result: dict[str, Any]) -> str:
    return "layers" if len(result["phases"]) > 1 else "soak"


def write_readme(result: dict[str, Any]) -> None:
    replace_readme_section(README_BEGIN, README_END, readme_section(result))


# --------------------------------------------------------------------------- orchestrator


def orchestrate(args: argparse.Namespace) -> None:
    lower_priority(args)
    workdir = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    prefix = f"soak{secrets.token_hex(4)}"
    modules = {layer: settings_module(workdir, layer, prefix) for layer in args.channel_layer}
    production_environment(
        args,
        # Every process of the run, this one too, uses the first phase's layer, with this run's prefix.
        DJANGO_SETTINGS_MODULE=modules[args.channel_layer[0]],
        PYTHONPATH=os.pathsep.join([str(workdir), str(REPO)]),
        # Collected for this run, as scripts/serve-production collects them: pages need the manifest.
        STATIC_ROOT=str(workdir / "static"),
    )
    sys.path.insert(0, str(workdir))
    django_setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    say(f"Logs and receipts in {workdir}")
    say(f"Preparing {len(AGENCIES)} agencies of {args.staff} caseworkers and {args.persons} persons each")
    data = prepare(args) | {"settings": modules}

    stamp = datetime.datetime.now(datetime.UTC)
    RESULTS_DIR.mkdir(exist_ok=True)
    name = f"soak-{stamp:%Y-%m-%d-%H%M}.json"
    command = "uv run python bench/soak.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    database = args.database_url.rsplit("/", 1)[1].split("?")[0]
    result: dict[str, Any] = {
        "file": name,
        "date": f"{stamp:%Y-%m-%d %H:%M} UTC",
        "command": command,
        "gunicorn_workers": args.gunicorn_workers,
        "client_procs": args.client_procs,
        "http_rate": args.http_rate,
        "event_rate": args.event_rate,
        "nice": args.nice,
        "machine": machine_facts(),
        "phases": [],
    }
    soak = Soak(args, workdir, data, PostgresMeter(database))
    try:
        for layer in args.channel_layer:
            phase = soak.run(layer, args.duration)
            phase["failures"] = failures(phase)
            result["phases"].append(phase)
            (RESULTS_DIR / name).write_text(json.dumps(result, indent=2) + "\n")
            delivery, memory = phase["delivery"], phase["memory"]
            say(
                f"[{layer}] HTTP {phase['http']['requests']} requests, {phase['http']['errors']} errors; "
                f"{phase['events']['total']} events, {delivery['deliveries']} deliveries, lost {delivery['lost_live']} "
                f"live / {delivery['lost_after_catch_up']} after catch-up, {delivery['leaks']} leaks; "
                f"latency p50 {phase['latency']['p50_ms']} ms, p99 {phase['latency']['p99_ms']} ms"
            )
            for process, figures in memory.items():
                say(
                    f"[{layer}]   {process}: RSS {mib(figures['start_kib'])} → {mib(figures['end_kib'])} MiB, "
                    f"{figures['slope_kib_per_min']:+} ± {figures['ci95_kib_per_min']} KiB/min"
                )
            say(f"[{layer}]   CPU % {phase['cpu']}")
            say(f"[{layer}] {'FAILED: ' + '; '.join(phase['failures']) if phase['failures'] else 'passed'}")
    finally:
        soak.close()
    say(f"Results in {RESULTS_DIR / name}")
    print(readme_section(result))
    if args.write_readme:
        write_readme(result)
        say(f"{README} updated")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=600, help="seconds of traffic per phase")
    parser.add_argument("--sockets", type=int, default=1000, help="websocket clients")
    parser.add_argument("--client-procs", type=int, default=2, help="processes sharing the sockets")
    parser.add_argument(
        "--channel-layer",
        nargs="+",
        choices=list(LAYERS),
        default=["pubsub"],
        help="one phase each: pubsub (the hub's), core (channels_redis' default RedisChannelLayer under the "
        "hub's consumer) or core-per-socket (that layer under Channels' tutorial consumer, bench/naive_ws.py)",
    )
    parser.add_argument("--http-rate", type=float, default=30, help="requests per second of all simulated staff")
    parser.add_argument("--http-users", type=int, default=5, help="simulated staff per agency")
    parser.add_argument("--event-rate", type=float, default=2, help="service steps per second of the publisher")
    parser.add_argument("--gunicorn-workers", type=int, default=3, help="sync workers (scripts/serve-production: 4)")
    parser.add_argument("--staff", type=int, default=10, help="caseworkers per agency (the sockets' users)")
    parser.add_argument("--persons", type=int, default=30, help="persons per agency")
    parser.add_argument("--sample", type=float, default=10, help="seconds between memory and CPU samples")
    parser.add_argument("--warm-up", type=float, default=60, help="seconds left out of the memory fit")
    parser.add_argument("--drain", type=float, default=12, help="seconds after the traffic for the gap repair")
    parser.add_argument("--seed", type=int, default=1)
    add_run_options(parser, database="hub_soak", roles=["client", "publisher", "http"])
    args = parser.parse_args()

    if args.role == "orchestrator":
        orchestrate(args)
        return
    try:
        if args.role == "publisher":
            publisher_main(args.spec)
        elif args.role == "http":
            http_main(args.spec)
        else:
            import uvloop

            uvloop.run(client_main(args.spec))
    except Exception as error:
        emit("error", detail=f"{type(error).__name__}: {error}")
        raise


if __name__ == "__main__":
    main()
