"""Benchmark data: counties of generated agencies, staff, persons, referrals, flats and meetings.

    uv run python bench/generate.py --scale county \\
        --database-url postgres://postgres@127.0.0.1:5432/hub_bench_county [--reset] [--seed N] [--jobs 2]

Scales (per county: 8 agencies of 50 staff, 20,000 persons, 60,000 referrals, 2,000 flats and 500
meetings; see ``bench/_data.py``): ``county`` is one county, ``state`` fifty of them in one
database (1,000,000 persons, 3,000,000 referrals, 20,000 staff; nothing shared across counties),
``tiny`` two small counties for tests.

The rows depend on the seed and the day only (``--today``, default today: the history ends at its
midnight in Europe/Berlin, and its dates lie in the two years before).

The script creates the database if it is missing (``--reset`` drops and recreates it), runs the
migrations, and then loads every county with PostgreSQL's COPY, in ``--jobs`` worker processes of
one county at a time (one transaction per county). While loading it drops the tables' plain
(non-unique) indexes and builds them afterwards, and turns off the foreign-key triggers for its
own sessions (``session_replication_role = replica``, so it needs a superuser); afterwards it looks
for a dangling key in every foreign key of the generated tables (``--no-verify`` skips that;
``tests/bench/test_generate.py`` loads with every constraint on). At the end it moves the id
sequences past the generated rows (the app inserts after them), runs VACUUM ANALYZE (so that
autovacuum does not start in the middle of a benchmark) and writes a summary to
``bench/results/generate-<scale>-<date>.json``.

Logins. Every generated account has the password ``BENCH_PASSWORD``. Usernames are
``c<county>.<agency>.<role><number>``:

- county: two digits, ``01`` to ``50``;
- agency: ``jobcenter``, ``sozialamt`` (social office; coordinates the round table and manages the
  flats), ``jugendamt`` (youth office), ``abh`` (immigration authority), ``arbeitsagentur``
  (employment agency), ``bbs`` (vocational school), ``kvhs`` (adult-education centre, the course
  provider), ``mbe`` (migration counselling, kind "other");
- role: ``cw`` caseworker, ``co`` coordinator, ``ho`` housing officer (social office and jobcenter
  only), ``ad`` agency administrator, ``dpo`` data-protection officer, ``ro`` read-only (no role),
  ``fm`` former caseworker whose membership is deactivated;
- number: three digits from ``001``; of 50 staff an agency has 2 ``ad``, 1 ``dpo``, 3 ``co``, 4 ``ro``,
  1 ``fm``, the social office 5 ``ho`` and the jobcenter 2, and the rest ``cw`` (34 to 39).

For example ``c01.jobcenter.cw001`` (county 1, jobcenter, caseworker 1), ``c01.sozialamt.co001``
(the round table's coordinator), ``c50.sozialamt.ho005``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: the repository's root on the path, for the apps and bench's own modules.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402 (after the path above, like every import below)
import datetime  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import queue  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from typing import Any  # noqa: E402

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from psycopg.conninfo import conninfo_to_dict, make_conninfo  # noqa: E402

RESULTS = REPO / "bench" / "results"

from bench._data import (  # noqa: E402
    BERLIN,
    SCALES,
    TABLES,
    Plan,
    load_county,
    make_plan,
    reset_sequences,
    sample_logins,
)

BENCH_PASSWORD = "bench-passwort-2026"  # noqa: S105 (the published password of generated accounts)
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hub_bench_county"


def log(message: str) -> None:
    print(f"[{datetime.datetime.now(datetime.UTC):%H:%M:%S}] {message}", flush=True)


# The database ------------------------------------------------------------------------------------


def ensure_database(url: str, *, reset: bool) -> bool:
    """Create the database (drop it first with ``reset``); True when it was created now."""
    name = str(conninfo_to_dict(url).get("dbname") or "")
    if not name or name == "postgres":
        raise SystemExit("Name the benchmark database in --database-url (not the maintenance database).")
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as admin:
        if reset:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def django_setup(url: str) -> None:
    """Django for this process only, on the benchmark database: migrations and the password hash."""
    os.environ["DATABASE_URL"] = url
    if not os.environ.get("SECRET_KEY"):
        os.environ["DEBUG"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", interactive=False, verbosity=0)
    connections.close_all()


def password_hash() -> str:
    """BENCH_PASSWORD hashed once with the hub's hasher; every account gets the same string."""
    from django.contrib.auth.hashers import make_password

    return make_password(BENCH_PASSWORD)


def history_end(today: datetime.date | None) -> float:
    """Midnight at the start of ``today`` in the hub's time zone: the generated history ends there."""
    day = today or datetime.datetime.now(BERLIN).date()
    return datetime.datetime.combine(day, datetime.time.min, BERLIN).timestamp()


# Indexes while loading ---------------------------------------------------------------------------

PLAIN_INDEXES = """
SELECT i.relname, pg_get_indexdef(x.indexrelid), pg_relation_size(x.indrelid)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relname = ANY(%s) AND NOT x.indisunique AND NOT x.indisprimary
ORDER BY t.relname, i.relname
"""


def drop_plain_indexes(conn: psycopg.Connection[Any]) -> list[str]:
    """Drop the non-unique indexes of the generated tables; returns their definitions to rebuild.

    Unique indexes stay: they back the constraints that keep the generated keys honest.
    """
    rows = conn.execute(PLAIN_INDEXES, [list(TABLES)]).fetchall()
    for name, _definition, _size in rows:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    conn.commit()
    return [definition for _name, definition, _size in rows]


def run_parallel(url: str, statements: list[Any], jobs: int, setup: str = "") -> list[Any]:
    """Run independent statements (index builds, vacuums, checks) on ``jobs`` connections at once;
    returns each statement's first value, in their order (None where a statement returns no rows)."""
    pending: queue.Queue[tuple[int, Any]] = queue.Queue()
    for index, statement in enumerate(statements):
        pending.put((index, statement))
    results: list[Any] = [None] * len(statements)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                if setup:
                    conn.execute(setup)
                while True:
                    try:
                        index, statement = pending.get_nowait()
                    except queue.Empty:
                        return
                    cursor = conn.execute(statement)  # our own SQL, no parameters
                    if cursor.description:
                        row = cursor.fetchone()
                        results[index] = row[0] if row else None
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(max(1, jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


FOREIGN_KEYS = """
SELECT c.conname, t.relname, a.attname, r.relname, ra.attname
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_class r ON r.oid = c.confrelid
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
WHERE c.contype = 'f' AND cardinality(c.conkey) = 1 AND t.relname = ANY(%s)
ORDER BY t.relname, c.conname
"""


def check_foreign_keys(url: str, jobs: int) -> int:
    """Look for a dangling key in every foreign key of the generated tables (loaded without their
    triggers); returns how many were checked and stops the run at the first violation found."""
    with psycopg.connect(url) as conn:
        keys = conn.execute(FOREIGN_KEYS, [list(TABLES)]).fetchall()
    queries = [
        sql.SQL(
            "SELECT count(*) FROM {t} x WHERE x.{c} IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM {r} y WHERE y.{rc} = x.{c})"
        ).format(
            t=sql.Identifier(table),
            c=sql.Identifier(column),
            r=sql.Identifier(target),
            rc=sql.Identifier(target_column),
        )
        for _name, table, column, target, target_column in keys
    ]
    counts = run_parallel(url, queries, jobs, setup="SET work_mem = '256MB'")
    dangling = {key[0]: int(count) for key, count in zip(keys, counts, strict=True) if count}
    if dangling:
        raise SystemExit(f"Foreign keys without their rows: {dangling}")
    return len(keys)


# Loading -----------------------------------------------------------------------------------------


def work(url: str, plan: Plan, counties: list[int], progress: Any) -> None:
    """A worker process: load its counties, one transaction each, and report each one done."""
    try:
        with psycopg.connect(url) as conn:
            try:
                # The foreign keys are checked by the tests at small scale; here they would queue
                # millions of deferred trigger events.
                conn.execute("SET session_replication_role = replica")
                conn.commit()
            except psycopg.errors.InsufficientPrivilege:
                conn.rollback()
            conn.execute("SET synchronous_commit = off")
            conn.commit()
            for county in counties:
                started = time.perf_counter()
                rows = load_county(conn, plan, county, threaded=True)
                conn.commit()
                progress.put(("done", county, dict(rows), time.perf_counter() - started))
    except BaseException as error:
        progress.put(("error", 0, {"error": f"{type(error).__name__}: {error}"}, 0.0))
        raise


def load(url: str, plan: Plan, jobs: int) -> tuple[Counter[str], dict[int, float]]:
    counties = list(range(1, plan.scale.counties + 1))
    jobs = max(1, min(jobs, len(counties)))
    context = multiprocessing.get_context("spawn")
    progress = context.Queue()
    workers = [
        context.Process(target=work, args=(url, plan, counties[index::jobs], progress), daemon=True)
        for index in range(jobs)
    ]
    for process in workers:
        process.start()
    rows: Counter[str] = Counter()
    seconds: dict[int, float] = {}
    started = time.perf_counter()
    while len(seconds) < len(counties):
        try:
            kind, county, counts, took = progress.get(timeout=5)
        except queue.Empty:
            if not any(process.is_alive() for process in workers):
                raise SystemExit("The workers stopped before loading every county.") from None
            continue
        if kind == "error":
            for process in workers:
                process.terminate()
            raise SystemExit(f"A worker failed: {counts['error']}")
        rows.update(counts)
        seconds[county] = took
        log(
            f"county {county:02d} loaded in {took:.1f} s ({len(seconds)}/{len(counties)}, "
            f"{sum(rows.values()):,} rows, {time.perf_counter() - started:.0f} s so far)"
        )
    for process in workers:
        process.join()
    return rows, seconds


# Summary -----------------------------------------------------------------------------------------


def table_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    counts = {}
    for table in TABLES:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="county")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reset", action="store_true", help="drop and recreate the database first")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--today",
        type=datetime.date.fromisoformat,
        default=None,
        help="the day the history ends (YYYY-MM-DD; default today): the same seed and day give the same rows",
    )
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    parser.add_argument("--keep-indexes", action="store_true", help="load with every index in place (slower)")
    parser.add_argument("--no-verify", action="store_true", help="skip the check of every foreign key after loading")
    args = parser.parse_args()
    scale = SCALES[args.scale]
    url = args.database_url
    name = conninfo_to_dict(url).get("dbname", "")
    phases: dict[str, float] = {}
    began = time.perf_counter()
    started_at = datetime.datetime.now(datetime.UTC)

    def phase(label: str, since: float) -> float:
        phases[label] = round(time.perf_counter() - since, 2)
        log(f"{label}: {phases[label]:.1f} s")
        return time.perf_counter()

    log(
        f"scale {scale.name}: {scale.counties} × ({scale.persons:,} persons, {scale.referrals:,} referrals) into {name}"
    )
    mark = time.perf_counter()
    created = ensure_database(url, reset=args.reset)
    log(f"database {name} {'created' if created else 'exists'}")
    django_setup(url)
    migrate()
    mark = phase("database and migrations", mark)

    with psycopg.connect(url) as conn:
        taken = conn.execute(
            "SELECT username FROM agencies_user WHERE username LIKE %s LIMIT 1", ["c01.jobcenter.%"]
        ).fetchone()
        if taken:
            raise SystemExit(f"{name} holds generated data already ({taken[0]}); use --reset.")
        plan = make_plan(conn, scale, seed=args.seed, password_hash=password_hash(), now=history_end(args.today))
        indexes = [] if args.keep_indexes else drop_plain_indexes(conn)
    mark = phase("preparation", mark)
    if indexes:
        log(f"{len(indexes)} plain indexes dropped for the load; they are rebuilt afterwards")

    rows, county_seconds = load(url, plan, args.jobs)
    mark = phase("load", mark)

    if indexes:
        run_parallel(url, indexes, args.jobs, setup="SET maintenance_work_mem = '1GB'")
        mark = phase("indexes", mark)

    if not args.no_verify:
        checked = check_foreign_keys(url, args.jobs)
        log(f"{checked} foreign keys checked: no dangling key")
        mark = phase("foreign-key check", mark)

    with psycopg.connect(url) as conn:
        reset_sequences(conn)
        conn.commit()
    run_parallel(url, [f"VACUUM (ANALYZE) {table}" for table in TABLES], args.jobs)
    mark = phase("sequences, vacuum and analyze", mark)

    with psycopg.connect(url) as conn:
        counts = table_counts(conn)
        size_row = conn.execute(
            "SELECT pg_database_size(current_database()), pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()
        version_row = conn.execute("SHOW server_version").fetchone()
    mark = phase("counting", mark)
    total = round(time.perf_counter() - began, 1)
    missing = {table: (rows.get(table, 0), counts[table]) for table in TABLES if counts[table] < rows.get(table, 0)}
    if missing:
        raise SystemExit(f"Rows went missing: {missing}")

    summary = {
        "scale": scale.name,
        "counties": scale.counties,
        "per_county": {
            "agencies": 8,
            "staff": scale.staff_per_agency * 8,
            "persons": scale.persons,
            "referrals": scale.referrals,
            "flats": scale.flats,
            "meetings": scale.meetings,
        },
        "seed": args.seed,
        "history_ends": datetime.datetime.fromtimestamp(plan.now, BERLIN).isoformat(),
        "database": name,
        "started_at": started_at.isoformat(timespec="seconds"),
        "jobs": args.jobs,
        "indexes_deferred": len(indexes),
        "seconds": {**phases, "total": total},
        "county_seconds": {str(county): round(took, 2) for county, took in sorted(county_seconds.items())},
        "rows": counts,
        "rows_total": sum(counts.values()),
        "database_size_bytes": int(size_row[0]) if size_row else None,
        "database_size": size_row[1] if size_row else None,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": version_row[0] if version_row else None,
        },
        "sample_logins": sample_logins(1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"generate-{scale.name}-{started_at:%Y-%m-%d-%H%M}.json"
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")

    print()
    print(f"{'table':<42} {'rows':>12}")
    for table in TABLES:
        print(f"{table:<42} {counts[table]:>12,}")
    print(f"{'total':<42} {sum(counts.values()):>12,}")
    print()
    for label, seconds in {**phases, "total": total}.items():
        print(f"{label:<42} {seconds:>10.1f} s")
    print(f"database size {summary['database_size']}")
    print(f"sample logins (password {BENCH_PASSWORD!r}): {', '.join(sample_logins(1))}")
    print(f"summary: {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
