"""HTTP benchmark: the hub's busiest pages and API lists under gunicorn, against their ceilings.

Each target is measured for a fixed time with a fixed number of concurrent connections (wrk, a
closed loop: each connection sends its next request when the last answer arrived), on the
production serving setup: ``gunicorn hub.wsgi`` with sync workers, DEBUG off, PostgreSQL through
Django's psycopg pool, whitenoise, every middleware. The settings are ``bench.settings``: the
hub's own plus the bench-only routes of ``bench/ceiling.py``.

Targets (a caseworker's session; the clients spread over several caseworkers of one agency):

- ``inbox``: the inbox page (``referral-inbox``); ``api-referrals``: the API's referral list, all
  the agency sent or received; ``api-referrals-in``: the same with ``?direction=incoming``, the
  rows of the ceiling;
- ``persons``: the person search (``person-list?q=<the commonest surname the agency sees>``);
- ``flats``: the flat search (``housing-listing-list`` with status, rooms and rent-limit filters);
- ``dashboard``: the start page; ``figures``: the round table's figures (``reporting-workspace``);
- ``ceiling``: the API's referral list with a plain ``to_agency_id`` filter and no access layer;
  ``ceiling-all``: the same with ``from_agency_id`` or ``to_agency_id``, the rows of ``api-referrals``;
- ``naive``: the same list through django-guardian's generic object permissions, rows filled here;
- ``hello``: a DRF ``APIView`` answering ``{"hello": "world"}``.

Before measuring, every target is fetched once through gunicorn and must answer 200 with real rows
(at least ``MIN_ROWS`` where it lists); during the run any answer other than 200 counts as an error.
Each target also runs in this process: once with Django's query log (queries and their time), and
``--samples`` times one request at a time, taking turns with the other targets ("alone": the
median; other work on the machine shifts ratios of these far less than those of throughput).

By default the run works on a copy of the benchmark database (``CREATE DATABASE … TEMPLATE``):
each list request appends to the read-access log, sessions are written and the naive list needs
guardian's rows, none of which belongs in the database ``bench/generate.py`` loaded.

Run by hand, never by pytest (see bench/README.md):

    uv run python bench/pages.py --database-url postgres://postgres@127.0.0.1:5432/hub_bench_county --write-readme
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: the repository's root on the path, for the apps and bench's own modules.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402 (after the path above)
import contextlib  # noqa: E402
import datetime  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from importlib import metadata  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode, urlsplit  # noqa: E402

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from psycopg.conninfo import conninfo_to_dict, make_conninfo  # noqa: E402

from bench.realtime import (  # noqa: E402
    cpu_seconds,
    free_port,
    machine_busy,
    postgres_seconds,
    replace_readme_section,
    stop,
    wait_for_port,
)

RESULTS_DIR = REPO / "bench" / "results"
README = REPO / "bench" / "README.md"
FIGURES_BEGIN = "<!-- http:figures:begin -->"
FIGURES_END = "<!-- http:figures:end -->"
HOST = "127.0.0.1"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hub_bench_county"
MIN_ROWS = 20
# The ratios the README reports: (name, numerator, denominator, what is compared).
RATIOS = (
    ("api-referrals-in / ceiling", "api-referrals-in", "ceiling", "same rows: the access layer's cost"),
    ("api-referrals / ceiling-all", "api-referrals", "ceiling-all", "same rows, sent or received"),
    ("api-referrals / ceiling", "api-referrals", "ceiling", "sent or received against received only"),
    ("api-referrals / naive", "api-referrals", "naive", "same rows: hub.access against guardian's tables"),
)


def say(message: str) -> None:
    # UTC: Django's TIME_ZONE changes the process's local time once it is set up.
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", flush=True)


# --------------------------------------------------------------------------- targets


@dataclass
class Target:
    name: str
    what: str
    path: str = ""
    # How to count the rows of an answer: "json" (len of results), "json-inbox" (all three lists),
    # a regex of the links to the rows' pages (distinct matches), or "" (no rows, only a 200).
    rows: str = ""
    min_rows: int = MIN_ROWS


def targets_for(setup: dict[str, Any]) -> list[Target]:
    return [
        Target("inbox", "inbox page (referral-inbox)", "/inbox/", r'href="/referrals/(\d+)/"'),
        Target("api-referrals", "API referral list, sent or received", "/api/v1/referrals/", "json"),
        Target(
            "api-referrals-in",
            "API referral list, received (?direction=incoming)",
            "/api/v1/referrals/?direction=incoming",
            "json",
        ),
        Target("api-inbox", "API inbox (/api/v1/referrals/inbox/)", "/api/v1/referrals/inbox/", "json-inbox"),
        Target(
            "persons",
            f"person search (person-list?q={setup['search']})",
            setup["persons_path"],
            r'href="/persons/(\d+)/"',
        ),
        Target("flats", "flat search (housing-listing-list)", setup["flats_path"], r'href="/housing/(\d+)/"', 5),
        Target("dashboard", "start page (dashboard)", "/", r'href="/workspaces/(\d+)/"', 1),
        Target(
            "figures", "round table's figures (reporting-workspace)", f"/workspaces/{setup['workspace']}/figures/", ""
        ),
        Target("ceiling", "API list, plain to_agency_id filter", "/api/bench/ceiling/referrals/", "json"),
        Target(
            "ceiling-all",
            "API list, plain from_agency_id or to_agency_id filter",
            "/api/bench/ceiling/referrals/all/",
            "json",
        ),
        Target("naive", "API list through guardian's generic tables", "/api/bench/naive/referrals/", "json"),
        Target("hello", "DRF hello (APIView)", "/api/bench/hello/", ""),
    ]


def count_rows(target: Target, body: bytes) -> int:
    if target.rows == "json":
        return len(json.loads(body)["results"])
    if target.rows == "json-inbox":
        return sum(len(part["results"]) for part in json.loads(body).values())
    if target.rows:
        return len(set(re.findall(target.rows, body.decode())))
    return 0


# --------------------------------------------------------------------------- the database


def database_name(url: str) -> str:
    name = conninfo_to_dict(url).get("dbname")
    if not name or name == "postgres":
        raise SystemExit("Name the benchmark database in --database-url.")
    return str(name)


def copy_database(source_url: str, target: str, wait: float) -> str:
    """A fresh copy of the source database under ``target``; waits while others are connected to it."""
    source = database_name(source_url)
    deadline = time.monotonic() + wait
    with psycopg.connect(make_conninfo(source_url, dbname="postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target)))
        while True:
            try:
                # FILE_COPY: one checkpoint and a copy of the files, instead of the whole database through the WAL.
                admin.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                        sql.Identifier(target), sql.Identifier(source)
                    )
                )
                break
            except psycopg.errors.ObjectInUse:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{source} stayed in use for {wait:.0f} s; try again or use --in-place") from None
                say(f"{source} is in use by another session; waiting")
                time.sleep(5)
    return with_database(source_url, target)


def with_database(url: str, name: str) -> str:
    """The URL with another database name (Django's DATABASE_URL wants a URL, not a conninfo string)."""
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def fill_guardian_rows(url: str) -> dict[str, Any]:
    """Guardian's defaults for the referrals: each agency's group gets ``view_referral`` on every
    referral it sent or received (generic ``GroupObjectPermission`` rows), every active member is in
    the group of their agency. Replaces earlier rows of this permission."""
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT p.id, p.content_type_id FROM auth_permission p JOIN django_content_type c "
            "ON c.id = p.content_type_id WHERE c.app_label = 'referrals' AND c.model = 'referral' "
            "AND p.codename = 'view_referral'"
        ).fetchone()
        if row is None:
            raise SystemExit("No permission referrals.view_referral: was the database migrated?")
        permission, content_type = row
        with connection.transaction():
            connection.execute("DELETE FROM guardian_groupobjectpermission WHERE permission_id = %s", [permission])
            inserted = connection.execute(
                """
                INSERT INTO guardian_groupobjectpermission (object_pk, content_type_id, group_id, permission_id)
                SELECT DISTINCT r.id::text, %(ct)s, a.group_id, %(perm)s
                FROM referrals_referral r
                JOIN agencies_agency a ON a.id IN (r.from_agency_id, r.to_agency_id)
                WHERE a.group_id IS NOT NULL
                """,
                {"ct": content_type, "perm": permission},
            ).rowcount
            members = connection.execute(
                """
                INSERT INTO agencies_user_groups (user_id, group_id)
                SELECT DISTINCT s.user_id, a.group_id FROM agencies_staff s JOIN agencies_agency a ON a.id = s.agency_id
                WHERE s.is_active AND a.group_id IS NOT NULL
                ON CONFLICT DO NOTHING
                """
            ).rowcount
        connection.execute("VACUUM ANALYZE guardian_groupobjectpermission")
        connection.execute("VACUUM ANALYZE agencies_user_groups")
    return {"rows": inserted, "members_added": members, "seconds": round(time.monotonic() - started, 1)}


# --------------------------------------------------------------------------- Django side (in this process)


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """Sessions of the caseworkers, and the ids and search terms of the targets, read as they see them."""
    from django.conf import settings
    from django.db.models import Count
    from django.test import Client

    from agencies.models import User, Workspace
    from hub import access
    from referrals.models import Person, Referral

    pattern = f"c{args.county:02d}.{args.agency}.cw"
    users = list(User.objects.filter(username__startswith=pattern, is_active=True).order_by("username")[: args.users])
    if len(users) < args.users:
        raise SystemExit(f"Only {len(users)} active accounts {pattern}…: was the database loaded by bench/generate.py?")
    cookies = []
    for user in users:
        client = Client()
        client.force_login(user)  # django.contrib.auth.login into the session engine: a real session row
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}")
    actor = users[0]
    workspace = access.visible(actor, Workspace).order_by("pk").values_list("pk", flat=True).first()
    commonest = (
        access.visible(actor, Person)
        .values("last_name")
        .annotate(number=Count("pk"))
        .order_by("-number", "last_name")
        .first()
    )
    if workspace is None or commonest is None:
        raise SystemExit(f"{actor.username} sees no round table or no person")
    search = str(commonest["last_name"])
    return {
        "users": [user.username for user in users],
        "cookies": cookies,
        "workspace": workspace,
        "search": search,
        "search_matches": int(commonest["number"]),
        "persons_path": "/persons/?" + urlencode({"q": search}),
        "flats_path": args.flats_query,
        "referrals_visible": access.visible(actor, Referral).count(),
        "referrals_received": Referral.objects.filter(to_agency_id__in=access.agency_ids(actor)).count(),
        "rows_in_database": {
            "persons": Person.objects.count(),
            "referrals": Referral.objects.count(),
        },
    }


def queries_of(target: Target, cookie: str) -> dict[str, Any]:
    """One request in-process with Django's query log (after a first one that fills the caches)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie.split("=", 1)[1]
    client.get(target.path)
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(target.path)
        wall = time.perf_counter() - started
    sql_ms = sum(float(query["time"]) for query in captured.captured_queries) * 1000
    slowest = max(captured.captured_queries, key=lambda query: float(query["time"]), default=None)
    return {
        "status": response.status_code,
        "queries": len(captured.captured_queries),
        "sql_ms": round(sql_ms, 1),
        "wall_ms": round(wall * 1000, 1),
        "slowest_query_ms": round(float(slowest["time"]) * 1000, 1) if slowest else 0.0,
        "slowest_query": (slowest["sql"][:600] if slowest else ""),
    }


def service_times(targets: list[Target], cookie: str, samples: int) -> dict[str, dict[str, float]]:
    """Milliseconds of one request at a time, in-process, the targets taking turns request by request:
    on a machine shared with other work, what the others take falls on all targets alike, so the
    ratios of these medians hold where those of throughput under load drift with the neighbours."""
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST=HOST)
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie.split("=", 1)[1]
    times: dict[str, list[float]] = {target.name: [] for target in targets}
    for _ in range(samples):
        for target in targets:
            started = time.perf_counter()
            client.get(target.path)
            times[target.name].append((time.perf_counter() - started) * 1000)
    return {
        name: {"median_ms": round(statistics.median(values), 2), "min_ms": round(min(values), 2)}
        for name, values in times.items()
    }


# --------------------------------------------------------------------------- the load


WRK_SCRIPT = r"""
-- Written by bench/pages.py: rotates the sessions over the requests, counts answers other than 200.
local cookies = %(cookies)s
local path = %(path)s
local threads = {}
local counter = 0

function setup(thread)
  table.insert(threads, thread)
  -- Each thread starts at another session.
  thread:set("offset", #threads)
end

function init(args)
  non200 = 0
  counter = offset or 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", path, {["Host"] = "%(host)s", ["Cookie"] = cookies[(counter %% #cookies) + 1]})
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non200") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d, "non200": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "mean_us": %%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout, bad,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string without control characters is a valid Lua string


def write_script(workdir: Path, target: Target, cookies: list[str]) -> Path:
    script = workdir / f"{target.name}.lua"
    table = "{" + ", ".join(lua_string(cookie) for cookie in cookies) + "}"
    script.write_text(WRK_SCRIPT % {"cookies": table, "path": lua_string(target.path), "host": HOST})
    return script


def run_wrk(args: argparse.Namespace, script: Path, port: int, seconds: float) -> dict[str, Any]:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "60s",
        "-s",
        str(script),
        f"http://{HOST}:{port}/",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603 (wrk, our arguments)
    for line in done.stdout.splitlines():
        if line.startswith("WRKJSON "):
            result: dict[str, Any] = json.loads(line[len("WRKJSON ") :])
            return result
    raise RuntimeError(f"wrk said nothing usable:\n{done.stdout}\n{done.stderr}")


def worker_pids(master: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    return []


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def quiet_machine(limit: float, threshold: float = 25.0) -> float:
    """Wait (up to ``limit`` s) for a second in which the machine does at most ``threshold`` % of a core
    of work while this run is idle; returns the load of the last second (% of one core)."""
    deadline = time.monotonic() + limit
    cores = os.cpu_count() or 1
    while True:
        before = machine_busy()
        time.sleep(1)
        after = machine_busy()
        load = 100 * cores * (after[0] - before[0]) / max(1, after[1] - before[1])
        if load <= threshold or time.monotonic() > deadline:
            return round(load, 1)


@dataclass
class Measured:
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    mean_ms: float = 0.0
    errors: int = 0  # answers other than 200, plus connect/read/write errors and timeouts
    error_detail: dict[str, int] = field(default_factory=dict)
    kib_per_answer: float = 0.0
    # CPU time per request, in ms: gunicorn's workers, all of PostgreSQL, wrk.
    app_cpu_ms: float = 0.0
    postgres_cpu_ms: float = 0.0
    wrk_cpu_ms: float = 0.0
    # % of one core during the run: the whole machine, and what other programs used besides.
    machine_cpu: float = 0.0
    other_cpu: float = 0.0
    load_before: float = 0.0


def measure(args: argparse.Namespace, target: Target, script: Path, port: int, master: int, cookie: str) -> Measured:
    result = Measured()
    result.load_before = quiet_machine(args.quiet_wait)
    run_wrk(args, script, port, args.warmup)
    # wrk leaves the requests it had in flight; the workers still answer them. One more request waits
    # behind them, so that the measurement starts without the warm-up's queue.
    fetch(port, target, cookie)
    workers = [master, *worker_pids(master)]
    app_before = sum(cpu_seconds(pid) for pid in workers)
    postgres_before = postgres_seconds()
    wrk_before = children_cpu()
    busy_before = machine_busy()
    wall = time.monotonic()
    out = run_wrk(args, script, port, args.duration)
    wall = time.monotonic() - wall
    busy_after = machine_busy()
    app = sum(cpu_seconds(pid) for pid in workers) - app_before
    postgres = postgres_seconds() - postgres_before
    wrk = children_cpu() - wrk_before

    if not out["requests"]:
        say(f"  no answer within {args.duration:g} s: the latencies are longer than the run")
    requests = max(1, out["requests"])
    result.requests = out["requests"]
    result.seconds = round(out["duration_us"] / 1e6, 2)
    result.rps = round(out["requests"] / (out["duration_us"] / 1e6), 1)
    result.p50_ms = round(out["p50_us"] / 1000, 2)
    result.p90_ms = round(out["p90_us"] / 1000, 2)
    result.p99_ms = round(out["p99_us"] / 1000, 2)
    result.max_ms = round(out["max_us"] / 1000, 2)
    result.mean_ms = round(out["mean_us"] / 1000, 2)
    result.error_detail = {key: out[key] for key in ("non200", "connect", "read", "write", "timeout")}
    result.errors = sum(result.error_detail.values())
    result.kib_per_answer = round(out["bytes"] / requests / 1024, 1)
    result.app_cpu_ms = round(1000 * app / requests, 2)
    result.postgres_cpu_ms = round(1000 * postgres / requests, 2)
    result.wrk_cpu_ms = round(1000 * wrk / requests, 2)
    cores = os.cpu_count() or 1
    result.machine_cpu = round(
        100 * cores * (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1]), 1
    )
    result.other_cpu = round(result.machine_cpu - 100 * (app + postgres + wrk) / wall, 1)
    return result


def fetch(port: int, target: Target, cookie: str) -> tuple[int, bytes, str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        connection.request("GET", target.path, headers={"Host": HOST, "Cookie": cookie})
        answer = connection.getresponse()
        return answer.status, answer.read(), answer.getheader("Location") or ""
    finally:
        connection.close()


def check(port: int, target: Target, cookie: str) -> int:
    """A 200 with real rows, before anything is measured; answers the number of rows shown."""
    status, body, location = fetch(port, target, cookie)
    if status != 200:
        raise SystemExit(f"{target.name}: {target.path} answered {status} {location} {body[:300]!r}")
    rows = count_rows(target, body)
    if target.rows and rows < target.min_rows:
        raise SystemExit(f"{target.name}: {target.path} shows {rows} rows, fewer than {target.min_rows}")
    return rows


# --------------------------------------------------------------------------- the run


def collectstatic(workdir: Path) -> Path:
    """whitenoise's manifest storage needs collected files with DEBUG off; they go to the run's folder."""
    static_root = workdir / "static"
    subprocess.run(  # noqa: S603 (our interpreter, manage.py)
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=os.environ | {"STATIC_ROOT": str(static_root)},
        check=True,
    )
    return static_root


def start_gunicorn(args: argparse.Namespace, workdir: Path) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    log = (workdir / "gunicorn.log").open("a")
    # As the README's production command: gunicorn hub.wsgi -w 4 -b 127.0.0.1:8000 (sync workers).
    server = subprocess.Popen(  # noqa: S603 (our interpreter, gunicorn)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "hub.wsgi",
            "-w",
            str(args.workers),
            "-b",
            f"{HOST}:{port}",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=os.environ,
        stdout=log,
        stderr=log,
        text=True,
    )
    wait_for_port(port, server)
    deadline = time.monotonic() + 60
    while len(worker_pids(server.pid)) < args.workers and time.monotonic() < deadline:
        time.sleep(0.2)
    return server, port


def versions() -> dict[str, str]:
    found = {}
    for package in ("django", "djangorestframework", "django-guardian", "gunicorn", "psycopg", "whitenoise"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[package] = metadata.version(package)
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        found["wrk"] = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()[1]  # noqa: S607
    return found


def machine_facts(url: str) -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        model = match.group(1) if match else ""
    with psycopg.connect(url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": str(row[0]) if row else "",
        "versions": versions(),
    }


def run(args: argparse.Namespace) -> Path:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    if args.nice:
        try:
            os.nice(args.nice)  # inherited by gunicorn and wrk, not by PostgreSQL
        except PermissionError:
            say(f"Cannot change the priority by {args.nice} (not root): running at the normal priority")
            args.nice = 0
    source = args.database_url
    scale = args.scale or ("state" if "state" in database_name(source) else "county")
    if args.in_place:
        url = source
    else:
        copy = args.work_database or f"{database_name(source)}_http"
        say(f"Copying {database_name(source)} to {copy}")
        started = time.monotonic()
        url = copy_database(source, copy, args.copy_wait)
        say(f"  copied in {time.monotonic() - started:.0f} s")
    naive: dict[str, Any] = {}
    if not args.skip_naive and not args.reuse_naive_rows:
        say("Filling guardian's generic permission rows for the naive list")
        naive = fill_guardian_rows(url)
        say(f"  {naive['rows']} rows in {naive['seconds']} s")

    os.environ.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": f"{HOST},localhost",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": url,
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "PYTHONPATH": str(REPO),
        }
    )
    # For gunicorn and for the requests made in this process alike.
    os.environ.update(dict(item.split("=", 1) for item in args.server_env))
    workdir = Path(tempfile.mkdtemp(prefix="bench-http-"))
    say(f"Scripts and logs in {workdir}; collecting static files")
    os.environ["STATIC_ROOT"] = str(collectstatic(workdir))
    django_setup()
    setup = prepare(args)
    say(
        f"Sessions of {', '.join(setup['users'])}; the first sees {setup['referrals_visible']} referrals "
        f"({setup['referrals_received']} received); search {setup['search']!r} ({setup['search_matches']} persons)"
    )
    targets = [t for t in targets_for(setup) if not args.targets or t.name in args.targets]
    if args.skip_naive:
        targets = [t for t in targets if t.name != "naive"]

    stamp = datetime.datetime.now(datetime.UTC)
    RESULTS_DIR.mkdir(exist_ok=True)
    label = f"{args.label}-" if args.label else ""
    path = RESULTS_DIR / f"http-{scale}-{label}{stamp:%Y-%m-%d-%H%M}.json"
    result: dict[str, Any] = {
        "file": path.name,
        "scale": scale,
        "label": args.label,
        "date": f"{stamp:%Y-%m-%d %H:%M} UTC",
        "command": "uv run python bench/pages.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "database": database_name(source),
        "work_database": database_name(url),
        "server": f"gunicorn hub.wsgi -w {args.workers} (sync), DJANGO_SETTINGS_MODULE=bench.settings, DEBUG=false",
        "load": f"wrk -t{args.threads} -c{args.connections}, {args.warmup:g} s warm-up, {args.duration:g} s measured",
        "workers": args.workers,
        "connections": args.connections,
        "duration_s": args.duration,
        "samples": args.samples,
        "warmup_s": args.warmup,
        "nice": args.nice,
        "server_env": args.server_env,
        "agency": f"c{args.county:02d}.{args.agency}",
        "setup": {key: value for key, value in setup.items() if key != "cookies"},
        "naive_rows": naive,
        "machine": machine_facts(url),
        "targets": {},
    }
    server, port = start_gunicorn(args, workdir)
    try:
        say(f"gunicorn on {HOST}:{port} with {args.workers} workers; checking every target")
        # Every session is signed in (the cheapest page), and every target shows its rows to the first.
        hello = Target("hello", "", "/api/bench/hello/")
        for cookie in setup["cookies"]:
            check(port, hello, cookie)
        rows = {target.name: check(port, target, setup["cookies"][0]) for target in targets}
        queries = {target.name: queries_of(target, setup["cookies"][0]) for target in targets}
        say(f"One request at a time, in turns, {args.samples} times each")
        alone = service_times(targets, setup["cookies"][0], args.samples)
        for target in targets:
            say(
                f"{target.name}: {target.path} ({rows[target.name]} rows, {queries[target.name]['queries']} queries, "
                f"{alone[target.name]['median_ms']} ms alone)"
            )
            script = write_script(workdir, target, setup["cookies"])
            measured = measure(args, target, script, port, server.pid, setup["cookies"][0])
            say(
                f"  {measured.rps} req/s, p50 {measured.p50_ms} ms, p99 {measured.p99_ms} ms, "
                f"errors {measured.errors}, "
                f"CPU/request app {measured.app_cpu_ms} ms, PostgreSQL {measured.postgres_cpu_ms} ms, "
                f"other programs {measured.other_cpu} % of a core"
            )
            result["targets"][target.name] = {
                **asdict(target),
                "rows_shown": rows[target.name],
                "in_process": queries[target.name],
                "alone": alone[target.name],
                **asdict(measured),
            }
            # Written after every target, so that a later failure keeps what was measured.
            path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    finally:
        stop(server)
    if not args.in_place and not args.keep_copy:
        with psycopg.connect(make_conninfo(source, dbname="postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database_name(url))))
    say(f"Results in {path}")
    return path


# --------------------------------------------------------------------------- the report


def ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def ratio(result: dict[str, Any], numerator: str, denominator: str) -> tuple[float, float] | None:
    """(rps of numerator / rps of denominator, the same for one request at a time: inverse times)."""
    targets = result["targets"]
    if numerator not in targets or denominator not in targets or not targets[denominator]["rps"]:
        return None
    top, bottom = targets[numerator], targets[denominator]
    return float(top["rps"]) / float(bottom["rps"]), bottom["alone"]["median_ms"] / top["alone"]["median_ms"]


def table(result: dict[str, Any]) -> list[str]:
    lines = [
        f"**{result['scale'].capitalize()}** (`{result['database']}`, "
        f"{result['setup']['rows_in_database']['referrals']:,} referrals, "
        f"{result['setup']['rows_in_database']['persons']:,} persons; sessions of {len(result['setup']['users'])} "
        f"caseworkers of {result['agency']}, who see {result['setup']['referrals_visible']:,} referrals): "
        f"measured {result['date']}, {result['load']}, {result['server']}. "
        f"Full figures: `bench/results/{result['file']}`.",
        "",
        "| target | rps | p50 (ms) | p99 (ms) | errors | rows | alone (ms) | queries (SQL ms) "
        "| CPU ms/request gunicorn / PostgreSQL | other programs (% of a core) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    few = False
    for name, row in result["targets"].items():
        queries = row["in_process"]
        # A closed loop answers each connection's first request last: with few answers per connection
        # the percentiles describe the queue of the first round, not a steady state.
        mark = "*" if row["requests"] < 2 * result["connections"] else ""
        few = few or bool(mark)
        lines.append(
            f"| {name}: {row['what']} | {row['rps']:.1f}{mark} | {ms(row['p50_ms'])}{mark} | {ms(row['p99_ms'])}{mark} "
            f"| {row['errors']} "
            f"| {row['rows_shown'] if row['rows'] else '–'} | {ms(row['alone']['median_ms'])} "
            f"| {queries['queries']} ({queries['sql_ms']:.1f}) "
            f"| {row['app_cpu_ms']:.1f} / {row['postgres_cpu_ms']:.1f} | {row['other_cpu']:.0f} |"
        )
    if few:
        lines += [
            "",
            "\\* fewer answers than twice the connections in the measured time: the rate is rough, the "
            "latencies those of the first rounds.",
        ]
    found = [
        f"{label} **{value[0]:.2f}** under load, **{value[1]:.2f}** alone ({why})"
        for label, numerator, denominator, why in RATIOS
        if (value := ratio(result, numerator, denominator)) is not None
    ]
    if found:
        lines += ["", "Ratios of requests per second: " + "; ".join(found) + "."]
    return lines


def growth(county: dict[str, Any], state: dict[str, Any]) -> list[str]:
    lines = [
        "**Growth**, the same pages at both scales (goal: p50 state / county at most 1.5):",
        "",
        "| target | p50 county (ms) | p50 state (ms) | p50 state / county | alone county / state (ms) "
        "| alone state / county | rps county / state |",
        "|---|---:|---:|---:|---|---:|---|",
    ]
    for name, row in county["targets"].items():
        other = state["targets"].get(name)
        if other is None:
            continue
        grown = f"{other['p50_ms'] / row['p50_ms']:.2f}" if row["p50_ms"] and other["p50_ms"] else "–"
        lines.append(
            f"| {name} | {ms(row['p50_ms'])} | {ms(other['p50_ms'])} | {grown} "
            f"| {ms(row['alone']['median_ms'])} / {ms(other['alone']['median_ms'])} "
            f"| {other['alone']['median_ms'] / row['alone']['median_ms']:.2f} "
            f"| {row['rps']:.1f} / {other['rps']:.1f} |"
        )
    return lines


def figures(results: list[dict[str, Any]]) -> str:
    lines = [FIGURES_BEGIN]
    for result in results:
        lines += [*table(result), ""]
    by_scale = {result["scale"]: result for result in results}
    if "county" in by_scale and "state" in by_scale:
        lines += [*growth(by_scale["county"], by_scale["state"]), ""]
    facts = results[-1]["machine"]
    tools = ", ".join(f"{k} {v}" for k, v in facts["versions"].items())
    lines += [
        f"Machine: {facts['cpus']} CPUs ({facts['cpu_model']}), shared by gunicorn, PostgreSQL "
        f"{facts['postgresql']} and wrk; Linux {facts['kernel']}, Python {facts['python']}; {tools}.",
        FIGURES_END,
    ]
    return "\n".join(lines)


def newest(scale: str) -> Path | None:
    """The newest full run of a scale (labelled runs are variations, not the reference)."""
    found = sorted(RESULTS_DIR.glob(f"http-{scale}-*.json"))
    found = [path for path in found if not json.loads(path.read_text()).get("label")]
    return found[-1] if found else None


def write_readme(paths: list[Path]) -> None:
    results = [json.loads(path.read_text()) for path in paths]
    results.sort(key=lambda result: result["scale"] != "county")
    replace_readme_section(FIGURES_BEGIN, FIGURES_END, figures(results))
    say(f"{README} updated from {', '.join(path.name for path in paths)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--scale", choices=["county", "state"], help="label of the results (default: from the name)")
    parser.add_argument("--in-place", action="store_true", help="measure in the database itself, not in a copy")
    parser.add_argument("--work-database", help="name of the copy (default: <database>_http)")
    parser.add_argument("--keep-copy", action="store_true", help="keep the copy after the run")
    parser.add_argument("--copy-wait", type=float, default=600, help="seconds to wait while the source is in use")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (README: -w 4)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections of wrk")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--duration", type=float, default=20, help="measured seconds per target")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of load before each measurement")
    parser.add_argument(
        "--samples", type=int, default=10, help="in-process requests per target, one at a time, in turns"
    )
    parser.add_argument("--county", type=int, default=1, help="county of the caseworkers")
    parser.add_argument("--agency", default="jobcenter", help="agency of the caseworkers (generate.py's key)")
    parser.add_argument("--users", type=int, default=8, help="caseworkers whose sessions the clients share")
    parser.add_argument(
        "--flats-query",
        default="/housing/?status=available&rooms_min=2&within_limit_for=3",
        help="path of the flat search",
    )
    parser.add_argument("--targets", nargs="*", help="only these targets")
    parser.add_argument("--skip-naive", action="store_true", help="no guardian rows, no naive list")
    parser.add_argument(
        "--reuse-naive-rows", action="store_true", help="keep the guardian rows of an earlier run (a kept copy)"
    )
    parser.add_argument("--quiet-wait", type=float, default=30, help="seconds to wait for an idle machine per target")
    parser.add_argument("--nice", type=int, default=-5, help="priority change of gunicorn and wrk (0: none)")
    parser.add_argument(
        "--server-env",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment of the hub, in gunicorn and in this process (PGOPTIONS='-c jit=off', ...)",
    )
    parser.add_argument("--label", default="", help="a word for the results' file name (a variation, e.g. jit-off)")
    parser.add_argument("--write-readme", action="store_true", help="put the figures into bench/README.md")
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("COUNTY_JSON", "STATE_JSON"),
        type=Path,
        help="measure nothing: print (and with --write-readme write) both tables and the growth",
    )
    args = parser.parse_args()

    if args.compare:
        results = [json.loads(path.read_text()) for path in args.compare]
        print(figures(results))
        if args.write_readme:
            write_readme(list(args.compare))
        return
    path = run(args)
    result = json.loads(path.read_text())
    print(figures([result]))
    if args.write_readme:
        other = newest("state" if result["scale"] == "county" else "county")
        write_readme([path, other] if other else [path])


if __name__ == "__main__":
    main()
