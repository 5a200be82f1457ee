"""Real-time delivery benchmark: the hub's websocket against a plain websockets server.

For each number of clients N the run has two phases on the same machine:

- **hub**: the ASGI application under uvicorn (``--ws websockets-sansio --ws-per-message-deflate
  false``, uvloop, one worker, as ``scripts/serve-production`` starts it) with DEBUG off,
  PostgreSQL and Redis. N sockets log in with real session cookies of a few staff members, say
  ``hello`` and wait for ``ready``. A publisher process then takes referral steps through
  ``referrals.services.referral_transition`` at a steady rate; each step publishes one
  ``referral.*`` event to the sending and the receiving agency, and every socket belongs to a
  member of one of them. The publisher stamps each transaction's commit (the first ``on_commit``
  callback, ``time.time_ns()``) and the clients stamp each receipt, so latency is receipt minus
  commit, both on CLOCK_REALTIME.
- **raw**: a plain ``websockets`` server (no Django, Channels or Redis) sends the same number of
  messages of the same shape at the same rate to N sockets with ``websockets.broadcast``,
  stamped just before the broadcast.

Lost events are (events x sockets) minus the distinct (socket, event) pairs received while the
sockets stayed open, which includes the hub's own gap repair; sockets missing an event then
reconnect and catch up with ``hello`` as a browser does, and what is still missing is reported
as lost after catch-up. Memory per connection is the server's RSS growth from before the
sockets connect to after they are all ready, divided by N.

Run by hand, never by pytest (see bench/README.md):

    uv run python bench/realtime.py --clients 100 500 1000 --events 200 --rate 20 --write-readme
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import functools
import json
import math
import os
import platform
import re
import secrets
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
README = BENCH_DIR / "README.md"
README_BEGIN = "<!-- realtime:begin -->"
README_END = "<!-- realtime:end -->"

MARK = "BENCH "  # child processes talk to the orchestrator in stdout lines starting with this
ORIGIN_HOST = "127.0.0.1"
# Each referral gives four steps that publish a referral event and need nothing else: received,
# accepted (which also notifies the sender), waitlisted, started.
STEPS = ("receive", "accept", "waitlist", "start")
USERS_PER_AGENCY = 10


# --------------------------------------------------------------------------- helpers


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def emit(kind: str, **data: Any) -> None:
    """A message from a child process to the orchestrator."""
    print(MARK + json.dumps({"kind": kind, **data}), flush=True)


def expect(process: subprocess.Popen[str], kind: str, timeout: float = 300) -> dict[str, Any]:
    """Read the child's stdout until its next ``kind`` message; other output (e-mails on the console) is skipped."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"process {process.pid} ended (rc {process.poll()}) while waiting for {kind!r}")
        if line.startswith(MARK):
            message: dict[str, Any] = json.loads(line[len(MARK) :])
            if message["kind"] == "error":
                raise RuntimeError(f"process {process.pid}: {message['detail']}")
            if message["kind"] == kind:
                return message
    raise TimeoutError(f"process {process.pid} did not say {kind!r} within {timeout} s")


def tell(process: subprocess.Popen[str], line: str) -> None:
    assert process.stdin is not None
    process.stdin.write(line + "\n")
    process.stdin.flush()


def stop(process: subprocess.Popen[str] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((ORIGIN_HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server ended with rc {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((ORIGIN_HOST, port), timeout=1):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (after the command name, which may hold spaces)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def postgres_seconds() -> float:
    """CPU time of PostgreSQL: the postmaster with its reaped children, plus the live backends."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if (entry / "comm").read_text().strip() == "postgres":
                    stats[int(entry.name)] = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
    total = 0
    for values in stats.values():
        total += int(values[11]) + int(values[12])
        if int(values[1]) not in stats:  # the postmaster: add its children that have ended
            total += int(values[13]) + int(values[14])
    return total / CLOCK_TICKS


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs, for the machine's load during a phase."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


def wait_for_quiet(limit: float, ours: list[int], threshold: float = 25.0) -> float:
    """Wait (up to ``limit`` s) for a second in which the machine does at most ``threshold`` % (of
    100 x cores) of work other than this run's processes and PostgreSQL: another program's load
    would be measured as the hub's latency. Returns that foreign load in the last second sampled."""
    deadline = time.monotonic() + limit
    while True:
        before, own_before = machine_busy(), sum(map(cpu_seconds, ours)) + postgres_seconds()
        time.sleep(1)
        after, own_after = machine_busy(), sum(map(cpu_seconds, ours)) + postgres_seconds()
        cores = os.cpu_count() or 1
        load = 100 * cores * (after[0] - before[0]) / max(1, after[1] - before[1]) - 100 * (own_after - own_before)
        if load <= threshold or time.monotonic() > deadline:
            return round(load, 1)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def redis_pid(redis_url: str) -> int | None:
    with contextlib.suppress(Exception):
        import redis

        info = redis.Redis.from_url(redis_url).info("server")
        return int(info["process_id"])
    return None


# --------------------------------------------------------------------------- client process


async def client_main(spec_path: str) -> None:
    """Open ``count`` sockets, say hello, record every event's receipt time until told to stop."""
    from websockets.asyncio.client import ClientConnection, connect

    spec = json.loads(Path(spec_path).read_text())
    url: str = spec["url"]
    origin: str = spec["origin"]
    cookies: list[str] = spec["cookies"]
    count: int = spec["count"]
    start_id: int = spec["start_id"]
    offset: int = spec["offset"]
    loop = asyncio.get_running_loop()

    async def open_socket(index: int) -> tuple[ClientConnection, list[str]]:
        headers = {"Cookie": cookies[index % len(cookies)]} if cookies else {}
        websocket = await connect(url, origin=origin, additional_headers=headers, open_timeout=120)  # type: ignore[arg-type]
        await websocket.send(json.dumps({"type": "hello", "last_event_id": start_id}))
        early: list[str] = []  # events replayed before "ready" (none expected: the phase starts after it)
        while True:
            raw = await asyncio.wait_for(websocket.recv(), timeout=120)
            message = json.loads(raw)
            if message["type"] == "ready":
                return websocket, early
            if message["type"] != "event":
                raise RuntimeError(f"unexpected answer to hello: {raw!r}")
            early.append(str(raw))

    # A connection storm of hundreds of handshakes at once only measures the backlog; 50 in flight.
    gate = asyncio.Semaphore(50)

    async def gated(index: int) -> tuple[ClientConnection, list[str]]:
        async with gate:
            return await open_socket(offset + index)

    sockets = await asyncio.gather(*(gated(i) for i in range(count)))
    receipts: list[list[tuple[int, str]]] = [[] for _ in sockets]

    async def listen(index: int, websocket: ClientConnection) -> None:
        # Stamp first, parse later: the client's own work must not sit inside the measured latency.
        record = receipts[index].append
        with contextlib.suppress(Exception):
            async for raw in websocket:
                record((time.time_ns(), raw if isinstance(raw, str) else raw.decode()))

    listeners = [asyncio.ensure_future(listen(i, ws)) for i, (ws, _) in enumerate(sockets)]
    emit("ready", count=len(sockets))

    command = await loop.run_in_executor(None, sys.stdin.readline)
    expected_path = command.split(maxsplit=1)[1].strip() if command.startswith("stop ") else ""
    for websocket, _ in sockets:
        await websocket.close()
    await asyncio.gather(*listeners, return_exceptions=True)

    expected: set[int] = set(json.loads(Path(expected_path).read_text())) if expected_path else set()
    live: list[list[tuple[int, int]]] = []
    other = 0
    for index, rows in enumerate(receipts):
        got: list[tuple[int, int]] = []
        for stamp, raw in rows:
            message = json.loads(raw)
            if message.get("type") != "event":
                continue
            event_id = int(message["event"]["id"])
            if event_id in expected:
                got.append((event_id, stamp))
            else:
                other += 1
        live.append(got)
        del receipts[index][:]

    # Sockets that missed an event come back as a browser does: hello with the id they started from.
    caught_up = 0
    still_missing = 0
    if spec["catch_up"]:
        for index, got in enumerate(live):
            missing = expected - {event_id for event_id, _ in got}
            if not missing:
                continue
            websocket, replayed = await open_socket(offset + index)
            await websocket.close()
            found = {int(json.loads(raw)["event"]["id"]) for raw in replayed} & missing
            caught_up += len(found)
            still_missing += len(missing - found)
    out = Path(spec["out"])
    out.write_text(json.dumps({"live": live, "other": other, "caught_up": caught_up, "still_missing": still_missing}))
    emit("done", path=str(out))


# --------------------------------------------------------------------------- raw websockets server


async def raw_server_main() -> None:
    """A plain websockets server: answers hello with ready, then broadcasts what it is told to."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    connected: set[ServerConnection] = set()
    loop = asyncio.get_running_loop()

    async def handler(websocket: ServerConnection) -> None:
        await websocket.recv()
        await websocket.send(json.dumps({"type": "ready", "last_event_id": 0}))
        connected.add(websocket)
        try:
            await websocket.wait_closed()
        finally:
            connected.discard(websocket)

    # Without per-message compression, as the hub's server runs (scripts/serve-production).
    async with serve(handler, ORIGIN_HOST, 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        emit("listening", port=port)
        while True:
            command = (await loop.run_in_executor(None, sys.stdin.readline)).split()
            if not command or command[0] == "quit":
                return
            if command[0] == "count":
                emit("count", count=len(connected))
                continue
            _, events, rate, out = command
            sends = []
            started = time.monotonic()
            for number in range(1, int(events) + 1):
                delay = started + (number - 1) / float(rate) - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                stamp = time.time_ns()
                # Same shape and size as the hub's event message.
                message = {
                    "type": "event",
                    "event": {
                        "id": number,
                        "verb": "referral.received",
                        "target": {"type": "referrals.referral", "id": str(number)},
                        "payload": {"status": "received"},
                        "at": datetime.datetime.now(datetime.UTC).isoformat(),
                    },
                }
                broadcast(connected, json.dumps(message))
                sends.append((number, stamp))
            Path(out).write_text(json.dumps(sends))
            emit("done")


# --------------------------------------------------------------------------- Django side


def django_setup() -> None:
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    import django

    django.setup()


def prepare(phases: int, events: int) -> dict[str, Any]:
    """Agencies, staff, a round table, persons and sent referrals: all through the services."""
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from agencies import services as agency_services
    from agencies.models import AgencyKind, User
    from hub.models import Event
    from referrals import services as referral_services

    run = secrets.token_hex(3)

    def agency(name: str, kind: str) -> Any:
        return agency_services.agency_create(
            actor=None, name=f"{name} (Messlauf {run})", short_name=f"{name[:8]}-{run}", kind=kind, city="Nordhorn"
        )

    jobcenter = agency("Jobcenter", AgencyKind.JOBCENTER)
    social = agency("Sozialamt", AgencyKind.SOCIAL_OFFICE)
    staff: dict[str, list[Any]] = {"jobcenter": [], "social": []}
    for key, home in (("jobcenter", jobcenter), ("social", social)):
        for number in range(USERS_PER_AGENCY):
            # Accounts are not a service of the hub (people arrive by invitation); memberships are.
            user = User.objects.create(
                username=f"bench-{run}-{key}-{number}", first_name="Mess", last_name=f"{key} {number}"
            )
            agency_services.staff_create(actor=None, agency=home, user=user, roles=["caseworker"])
            staff[key].append(user)
    agency_services.workspace_create(
        actor=None, name=f"Runder Tisch Messlauf {run}", coordinator_agency=jobcenter, agencies=[social]
    )

    sender, receiver = staff["jobcenter"][0], staff["social"][0]
    per_phase = math.ceil(events / len(STEPS))
    batches: list[list[int]] = []
    for phase in range(phases):
        batch = []
        for number in range(per_phase):
            person = referral_services.person_create(
                actor=sender,
                agency=jobcenter,
                first_name="Mess",
                last_name=f"Person {phase}-{number}",
                birth_date=datetime.date(1990, 1, 1),
                nationality="syrisch",
                city="Nordhorn",
            )
            consent = referral_services.consent_record(
                actor=sender,
                person=person,
                categories=["identity", "contact"],
                recipients=[social],
                purpose="Messlauf",
                text_version="2026-01",
            )
            referral = referral_services.referral_create(
                actor=sender,
                person=person,
                to_agency=social,
                reason="Messlauf",
                categories=["identity", "contact"],
                legal_basis="consent",
                consent=consent,
                answer_due_on=timezone.localdate() + datetime.timedelta(days=14),
            )
            batch.append(referral.pk)
        batches.append(batch)

    cookies = []
    for user in staff["jobcenter"] + staff["social"]:
        client = Client()
        client.force_login(user)  # django.contrib.auth.login into the session engine
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}")
    newest = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return {"run": run, "receiver": receiver.pk, "batches": batches, "cookies": cookies, "newest_event": newest}


def newest_event_id() -> int:
    from hub.models import Event

    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def stamp_commit(into: list[int]) -> None:
    into.append(time.time_ns())


def publisher_main(spec_path: str) -> None:
    """Take referral steps at a steady rate and stamp each commit; waits for "go" on stdin."""
    django_setup()
    from django.db import close_old_connections, transaction

    from agencies.models import User
    from hub import events
    from referrals import services as referral_services
    from referrals.models import Referral

    spec = json.loads(Path(spec_path).read_text())
    actor = User.objects.get(pk=spec["receiver"])
    referrals = list(Referral.objects.filter(pk__in=spec["referrals"]).order_by("pk"))
    plan = [(referral, step) for step in STEPS for referral in referrals][: spec["events"]]
    published: list[tuple[int, str]] = []

    @events.listen
    def remember(event: Any, target: Any, actor: Any) -> None:
        published.append((event.pk, event.verb))

    emit("waiting")
    if not sys.stdin.readline().startswith("go"):
        return
    commits: list[tuple[int, str, int]] = []
    slow = 0
    started = time.monotonic()
    for number, (referral, step) in enumerate(plan):
        delay = started + number / spec["rate"] - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -0.01:  # more than 10 ms late: the service could not keep the rate
            slow += 1
        stamp: list[int] = []
        published.clear()
        with transaction.atomic():
            # Registered first, so it runs first after COMMIT: before the broadcast of this transaction.
            transaction.on_commit(functools.partial(stamp_commit, stamp))
            referral_services.referral_transition(actor=actor, referral=referral, action=step)
        commits.extend((event_id, verb, stamp[0]) for event_id, verb in published)
        close_old_connections()
    elapsed = time.monotonic() - started
    Path(spec["out"]).write_text(json.dumps({"commits": commits, "elapsed": elapsed, "behind": slow}))
    emit("done")


# --------------------------------------------------------------------------- orchestrator


@dataclass
class Stats:
    deliveries: int = 0
    expected: int = 0
    lost_live: int = 0
    caught_up: int = 0
    lost_after_catch_up: int | None = None
    other_events: int = 0
    p50_ms: float = math.nan
    p90_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    fan_out_p50_ms: float = math.nan  # per event: until the last socket had it
    fan_out_max_ms: float = math.nan
    deliveries_per_s: float = 0.0
    rss_before_mib: float = 0.0
    rss_after_mib: float = 0.0
    memory_per_connection_kib: float = 0.0
    connect_s: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    server_cpu_us_per_delivery: float = 0.0  # the server's CPU time per delivery, rechecks included
    load_before: float = 0.0  # other programs' load (of 100 x cores) in the second before the events
    publisher_behind: int = 0
    publish_elapsed_s: float = 0.0


@dataclass
class Phase:
    name: str
    url: str
    server_pid: int
    start_id: int
    cookies: list[str]
    catch_up: bool


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.processes: list[subprocess.Popen[str]] = []

    def spawn(
        self, arguments: list[str], log: str = "", quiet: bool = False, extra_env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        stderr: IO[str] | None = (self.workdir / log).open("a") if log else None
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
            arguments,
            cwd=REPO,
            env=os.environ | (extra_env or {}),
            stdin=subprocess.PIPE,
            # A server's stdout is never read: a full pipe would stall it.
            stdout=stderr if quiet else subprocess.PIPE,
            stderr=stderr,
            text=True,
            bufsize=1,
        )
        self.processes.append(process)
        return process

    def role(self, role: str, *extra: str, log: str = "") -> subprocess.Popen[str]:
        return self.spawn([sys.executable, str(Path(__file__).resolve()), "--role", role, *extra], log=log)

    def start_clients(self, phase: Phase, count: int) -> tuple[list[subprocess.Popen[str]], list[Path]]:
        processes, outputs = [], []
        share = [
            count // self.args.client_procs + (1 if i < count % self.args.client_procs else 0)
            for i in range(self.args.client_procs)
        ]
        offset = 0
        for number, part in enumerate(share):
            if part == 0:
                continue
            out = self.workdir / f"{phase.name}-{count}-client{number}.json"
            spec = self.workdir / f"{phase.name}-{count}-client{number}-spec.json"
            spec.write_text(
                json.dumps(
                    {
                        "url": phase.url,
                        "origin": f"http://{ORIGIN_HOST}",
                        "cookies": phase.cookies,
                        "count": part,
                        "offset": offset,
                        "start_id": phase.start_id,
                        "catch_up": phase.catch_up,
                        "out": str(out),
                    }
                )
            )
            offset += part
            processes.append(self.role("client", "--spec", str(spec), log="clients.log"))
            outputs.append(out)
        return processes, outputs

    def measure(
        self,
        phase: Phase,
        count: int,
        trigger: Any,
        finish: Any,
        extra_pids: dict[str, int],
    ) -> Stats:
        """Connect ``count`` sockets, run the publishing side (``trigger``/``finish``), collect the receipts."""
        stats = Stats()
        stats.rss_before_mib = rss_kib(phase.server_pid) / 1024
        began = time.monotonic()
        clients, outputs = self.start_clients(phase, count)
        connected = sum(expect(client, "ready", timeout=600)["count"] for client in clients)
        stats.connect_s = time.monotonic() - began
        assert connected == count, f"{connected} of {count} sockets connected"
        time.sleep(1)  # let the server settle (ready is sent before the event loop is idle again)
        stats.rss_after_mib = rss_kib(phase.server_pid) / 1024
        stats.memory_per_connection_kib = (stats.rss_after_mib - stats.rss_before_mib) * 1024 / count

        pids = {"server": phase.server_pid, **extra_pids} | {f"client{i}": c.pid for i, c in enumerate(clients)}
        stats.load_before = wait_for_quiet(self.args.quiet_wait, list(pids.values()))
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        busy_before = machine_busy()
        postgres_before = postgres_seconds()
        wall = time.monotonic()
        trigger()
        sent, publish_info = finish()  # {event_id: stamp_ns}, info
        time.sleep(1)
        wall = time.monotonic() - wall
        busy_after = machine_busy()
        server_cpu = cpu_seconds(phase.server_pid) - cpu_before["server"]
        stats.cpu = {name: round(100 * (cpu_seconds(pid) - cpu_before[name]) / wall, 1) for name, pid in pids.items()}
        stats.cpu["postgres"] = round(100 * (postgres_seconds() - postgres_before) / wall, 1)
        machine = stats.cpu["machine (of 100 x cores)"] = round(
            100 * os.cpu_count() * (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1]),  # type: ignore[operator]
            1,
        )
        # What the machine did besides the processes of this run (other programs on a shared machine).
        stats.cpu["other"] = round(machine - sum(v for k, v in stats.cpu.items() if k != "machine (of 100 x cores)"), 1)
        stats.publisher_behind = publish_info.get("behind", 0)
        stats.publish_elapsed_s = round(publish_info.get("elapsed", 0.0), 3)
        time.sleep(self.args.drain)

        expected_path = self.workdir / f"{phase.name}-{count}-expected.json"
        expected_path.write_text(json.dumps(sorted(sent)))
        for client in clients:
            tell(client, f"stop {expected_path}")
        for client in clients:
            expect(client, "done", timeout=600)
            client.wait(timeout=60)

        latencies: list[float] = []
        last_receipt: dict[int, int] = {}
        first_commit = min(sent.values()) if sent else 0
        final_receipt = first_commit
        lost = caught_up = still_missing = other = 0
        for path in outputs:
            result = json.loads(path.read_text())
            other += result["other"]
            caught_up += result["caught_up"]
            still_missing += result["still_missing"]
            for got in result["live"]:
                distinct: dict[int, int] = {}
                for event_id, stamp in got:
                    distinct.setdefault(event_id, stamp)
                lost += len(sent) - len(distinct)
                for event_id, stamp in distinct.items():
                    latencies.append((stamp - sent[event_id]) / 1e6)
                    last_receipt[event_id] = max(last_receipt.get(event_id, 0), stamp)
                    final_receipt = max(final_receipt, stamp)
        latencies.sort()
        fan_out = sorted((stamp - sent[event_id]) / 1e6 for event_id, stamp in last_receipt.items())
        stats.deliveries = len(latencies)
        stats.server_cpu_us_per_delivery = round(1e6 * server_cpu / max(1, len(latencies)), 1)
        stats.expected = len(sent) * count
        stats.lost_live = lost
        stats.caught_up = caught_up
        stats.lost_after_catch_up = still_missing if phase.catch_up else None
        stats.other_events = other
        stats.p50_ms = round(percentile(latencies, 0.50), 2)
        stats.p90_ms = round(percentile(latencies, 0.90), 2)
        stats.p99_ms = round(percentile(latencies, 0.99), 2)
        stats.max_ms = round(latencies[-1], 2) if latencies else math.nan
        stats.fan_out_p50_ms = round(percentile(fan_out, 0.50), 2)
        stats.fan_out_max_ms = round(fan_out[-1], 2) if fan_out else math.nan
        span = (final_receipt - first_commit) / 1e9
        stats.deliveries_per_s = round(stats.deliveries / span, 0) if span > 0 else 0.0
        return stats

    def warm_up(self, url: str, cookie: str) -> None:
        """One socket through the whole path, so that lazy imports and pools count before, not per connection."""

        async def once() -> None:
            from websockets.asyncio.client import connect

            headers = {"Cookie": cookie} if cookie else {}
            async with connect(url, origin=f"http://{ORIGIN_HOST}", additional_headers=headers) as websocket:  # type: ignore[arg-type]
                await websocket.send(json.dumps({"type": "hello", "last_event_id": 2**62}))
                await asyncio.wait_for(websocket.recv(), timeout=30)

        asyncio.run(once())

    def hub_phase(self, count: int, data: dict[str, Any], batch: list[int]) -> Stats:
        port = free_port()
        server = self.spawn(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "hub.asgi:application",
                "--ws",
                self.args.ws,
                "--ws-per-message-deflate",
                "false",
                "--workers",
                "1",
                "--host",
                ORIGIN_HOST,
                "--port",
                str(port),
                "--proxy-headers",
                "--log-level",
                "warning",
            ],
            log="uvicorn.log",
            quiet=True,
            extra_env=dict(item.split("=", 1) for item in self.args.server_env),
        )
        publisher = None
        try:
            wait_for_port(port, server)
            url = f"ws://{ORIGIN_HOST}:{port}/ws/"
            self.warm_up(url, data["cookies"][0])
            spec = self.workdir / f"publisher-{count}-spec.json"
            out = self.workdir / f"publisher-{count}.json"
            spec.write_text(
                json.dumps(
                    {
                        "receiver": data["receiver"],
                        "referrals": batch,
                        "events": self.args.events,
                        "rate": self.args.rate,
                        "out": str(out),
                    }
                )
            )
            publisher = self.role("publisher", "--spec", str(spec), log="publisher.log")
            expect(publisher, "waiting", timeout=120)
            phase = Phase("hub", url, server.pid, newest_event_id(), data["cookies"], catch_up=True)

            def trigger() -> None:
                assert publisher is not None
                tell(publisher, "go")

            def finish() -> tuple[dict[int, int], dict[str, Any]]:
                assert publisher is not None
                expect(publisher, "done", timeout=600)
                result = json.loads(out.read_text())
                sent = {event_id: stamp for event_id, verb, stamp in result["commits"] if verb.startswith("referral.")}
                return sent, result

            extra = {"publisher": publisher.pid}
            redis = redis_pid(os.environ["REDIS_URL"])
            if redis is not None:
                extra["redis"] = redis
            return self.measure(phase, count, trigger, finish, extra)
        finally:
            stop(publisher)
            stop(server)

    def raw_phase(self, count: int) -> Stats:
        server = self.role("raw-server", log="raw.log")
        try:
            port = expect(server, "listening", timeout=60)["port"]
            url = f"ws://{ORIGIN_HOST}:{port}/ws/"
            self.warm_up(url, "")
            phase = Phase("raw", url, server.pid, 0, [], catch_up=False)
            out = self.workdir / f"raw-{count}.json"

            def trigger() -> None:
                tell(server, f"go {self.args.events} {self.args.rate} {out}")

            def finish() -> tuple[dict[int, int], dict[str, Any]]:
                started = time.monotonic()
                expect(server, "done", timeout=600)
                return {event_id: stamp for event_id, stamp in json.loads(out.read_text())}, {
                    "elapsed": time.monotonic() - started
                }

            return self.measure(phase, count, trigger, finish, {})
        finally:
            with contextlib.suppress(Exception):
                tell(server, "quit")
            stop(server)

    def close(self) -> None:
        for process in self.processes:
            stop(process)


def machine_facts() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        model = match.group(1) if match else ""
    memory = ""
    with contextlib.suppress(OSError):
        match = re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.MULTILINE)
        memory = f"{int(match.group(1)) // 1024} MiB" if match else ""
    versions = {}
    for package in ("django", "channels", "channels-redis", "redis", "uvicorn", "uvloop", "websockets", "psycopg"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory": memory,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
        "postgresql": server_version("SHOW server_version"),
        "redis": redis_version(os.environ["REDIS_URL"]),
    }


def server_version(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return str(row[0]) if row else ""


def redis_version(url: str) -> str:
    with contextlib.suppress(Exception):
        import redis

        return str(redis.Redis.from_url(url).info("server")["redis_version"])
    return ""


def ms(value: float) -> str:
    return "–" if math.isnan(value) else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


def achieved(stats: dict[str, Any], events: int) -> str:
    """The event rate the publishing side really kept (the service may be slower than asked)."""
    elapsed = stats.get("publish_elapsed_s") or 0
    return f"{events / elapsed:.1f}" if elapsed else "–"


def readme_section(result: dict[str, Any]) -> str:
    facts = result["machine"]
    lines = [
        README_BEGIN,
        f"Measured {result['date']} with `{result['command']}`: {result['events']} events at {result['rate']:g}/s, "
        f"{result['client_procs']} client processes, priority {result['nice']:+d}, "
        f"uvicorn --ws {result.get('ws', 'websockets-sansio')}.",
        "",
        "| sockets | hub p50 / p99 / max (ms) | raw p50 / p99 / max (ms) | p50 hub / raw | events/s hub / raw "
        "| hub deliveries/s "
        "| lost live / after catch-up | server CPU per delivery hub / raw (µs) | memory per socket hub / raw (KiB) "
        "| CPU % hub server / publisher / PostgreSQL / clients / other |",
        "|---:|---|---|---:|---|---:|---|---|---|---|",
    ]
    for row in result["runs"]:
        hub, raw = row["hub"], row["raw"]
        ratio = hub["p50_ms"] / raw["p50_ms"] if raw["p50_ms"] else math.nan
        cpu = hub["cpu"]
        clients = sum(v for k, v in cpu.items() if k.startswith("client"))
        lines.append(
            f"| {row['clients']} | {ms(hub['p50_ms'])} / {ms(hub['p99_ms'])} / {ms(hub['max_ms'])} "
            f"| {ms(raw['p50_ms'])} / {ms(raw['p99_ms'])} / {ms(raw['max_ms'])} | {ratio:.1f}× "
            f"| {achieved(hub, result['events'])} / {achieved(raw, result['events'])} "
            f"| {hub['deliveries_per_s']:.0f} | {hub['lost_live']} / {hub['lost_after_catch_up']} "
            f"| {hub['server_cpu_us_per_delivery']:.0f} / {raw['server_cpu_us_per_delivery']:.0f} "
            f"| {hub['memory_per_connection_kib']:.0f} / {raw['memory_per_connection_kib']:.0f} "
            f"| {cpu['server']:.0f} / {cpu.get('publisher', 0):.0f} / {cpu.get('postgres', 0):.0f} / {clients:.0f} "
            f"/ {cpu.get('other', 0):.0f} |"
        )
    versions = ", ".join(f"{k} {v}" for k, v in facts["versions"].items())
    lines += [
        "",
        f"Machine: {facts['cpus']} CPUs ({facts['cpu_model']}), {facts['memory']}, Linux {facts['kernel']}, "
        f"Python {facts['python']}, PostgreSQL {facts['postgresql']}, Redis {facts['redis']}; {versions}. "
        f"Full figures: `bench/results/{result['file']}`.",
        README_END,
    ]
    return "\n".join(lines)


def replace_readme_section(begin: str, end: str, section: str) -> None:
    """Put ``section`` (its own ``begin`` and ``end`` markers included) in place of the README's
    part between those markers; every benchmark writes its figures this way."""
    text = README.read_text()
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{README} has no {begin} … {end} section")
    README.write_text(pattern.sub(lambda _: section, text))


def write_readme(result: dict[str, Any]) -> None:
    replace_readme_section(README_BEGIN, README_END, readme_section(result))


def lower_priority(args: argparse.Namespace) -> None:
    """Inherited by every process of the run (not by PostgreSQL and Redis): on a machine shared with
    other work, that work then takes the CPU only when the run leaves it idle."""
    if not args.nice:
        return
    try:
        os.nice(args.nice)
    except PermissionError:
        say(f"Cannot change the priority by {args.nice} (not root): running at the normal priority")
        args.nice = 0


def production_environment(args: argparse.Namespace, **more: str) -> None:
    """The environment of the run's servers and of this process: the hub's production settings, on
    the run's database and Redis."""
    os.environ.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": f"{ORIGIN_HOST},localhost",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "hub.settings",
            "PYTHONPATH": str(REPO),
            **more,
        }
    )


def orchestrate(args: argparse.Namespace) -> None:
    lower_priority(args)
    production_environment(args)
    django_setup()
    say(f"Preparing {len(args.clients)} batches of referrals for {args.events} events each through the services")
    data = prepare(len(args.clients), args.events)

    workdir = Path(tempfile.mkdtemp(prefix="bench-realtime-"))
    say(f"Logs and raw receipts in {workdir}")
    stamp = datetime.datetime.now(datetime.UTC)
    RESULTS_DIR.mkdir(exist_ok=True)
    name = f"realtime-{stamp:%Y-%m-%d-%H%M}.json"
    command = "uv run python bench/realtime.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    result: dict[str, Any] = {
        "file": name,
        "date": f"{stamp:%Y-%m-%d %H:%M} UTC",
        "command": command,
        "events": args.events,
        "rate": args.rate,
        "ws": args.ws,
        "client_procs": args.client_procs,
        "drain_s": args.drain,
        "nice": args.nice,
        "machine": machine_facts(),
        "runs": [],
    }
    bench = Bench(args, workdir)
    try:
        for count, batch in zip(args.clients, data["batches"], strict=True):
            say(f"{count} sockets: hub (uvicorn + Channels + Redis)")
            hub = bench.hub_phase(count, data, batch)
            say(f"  hub p50 {hub.p50_ms} ms, p99 {hub.p99_ms} ms, max {hub.max_ms} ms, lost {hub.lost_live}")
            say(f"  hub CPU % {hub.cpu}")
            say(f"{count} sockets: raw websockets server")
            raw = bench.raw_phase(count)
            say(f"  raw p50 {raw.p50_ms} ms, p99 {raw.p99_ms} ms, max {raw.max_ms} ms, lost {raw.lost_live}")
            result["runs"].append({"clients": count, "hub": asdict(hub), "raw": asdict(raw)})
            # Written after every size, so that a later failure keeps what was measured.
            (RESULTS_DIR / name).write_text(json.dumps(result, indent=2) + "\n")
    finally:
        bench.close()
    say(f"Results in {RESULTS_DIR / name}")
    print(readme_section(result))
    if args.write_readme:
        write_readme(result)
        say(f"{README} updated")


def add_run_options(parser: argparse.ArgumentParser, *, database: str, roles: list[str]) -> None:
    """The options every load script of several processes has: where, how quietly, and which part."""
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{database}")
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument(
        "--quiet-wait", type=float, default=60, help="seconds to wait for an idle machine before each phase"
    )
    parser.add_argument("--nice", type=int, default=-5, help="priority change of the run's processes (0: none)")
    parser.add_argument("--write-readme", action="store_true", help="replace the figures in bench/README.md")
    # The orchestrator starts its helpers as this script again, with their part and a spec file.
    parser.add_argument("--role", choices=["orchestrator", *roles], default="orchestrator")
    parser.add_argument("--spec", help=argparse.SUPPRESS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 500, 1000], help="numbers of sockets")
    parser.add_argument("--events", type=int, default=200, help="events per phase")
    parser.add_argument("--rate", type=float, default=20, help="events per second")
    parser.add_argument("--client-procs", type=int, default=2, help="client processes sharing the sockets")
    parser.add_argument("--drain", type=float, default=6, help="seconds to wait for stragglers (gap repair: 5 s)")
    add_run_options(parser, database="hub_bench", roles=["client", "publisher", "raw-server"])
    parser.add_argument(
        "--ws",
        default="websockets-sansio",
        choices=["websockets-sansio", "websockets"],
        help="uvicorn's websocket implementation for the hub (scripts/serve-production: websockets-sansio)",
    )
    parser.add_argument(
        "--server-env", nargs="*", default=[], metavar="KEY=VALUE", help="extra environment of the hub's server"
    )
    args = parser.parse_args()

    if args.role == "orchestrator":
        orchestrate(args)
        return
    try:
        if args.role == "publisher":
            publisher_main(args.spec)
            return
        import uvloop

        if args.role == "client":
            uvloop.run(client_main(args.spec))
        else:
            uvloop.run(raw_server_main())
    except Exception as error:
        emit("error", detail=f"{type(error).__name__}: {error}")
        raise


if __name__ == "__main__":
    main()
