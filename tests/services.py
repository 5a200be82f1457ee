"""Finds the PostgreSQL and Redis the tests run against, before Django reads its settings.

DATABASE_URL and REDIS_URL win when set. Otherwise the services on 127.0.0.1 are
used; when no PostgreSQL answers there and its binaries are installed, a
throwaway cluster is started for this run (outside CI only). With CI=true a
missing service is an error, never a reason to skip.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hub"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin() -> str | None:
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(found)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(candidates[-1]) if candidates else None


def _throwaway_cluster(bindir: str) -> str:
    data = tempfile.mkdtemp(prefix="hub-pg-")
    port = _free_port()
    run = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    if run:
        shutil.chown(data, "postgres")
    subprocess.run(
        [*run, f"{bindir}/initdb", "-D", data, "-U", "postgres", "-A", "trust"], check=True, capture_output=True
    )
    subprocess.run(
        [*run, f"{bindir}/pg_ctl", "-D", data, "-o", f"-p {port} -k {data} -h 127.0.0.1", "-w", "start"],
        check=True,
        capture_output=True,
    )
    atexit.register(
        lambda: subprocess.run([*run, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
    )
    print(f"tests: no PostgreSQL on 127.0.0.1:5432, started a throwaway cluster on port {port}", file=sys.stderr)
    return f"postgres://postgres@127.0.0.1:{port}/hub"


def ensure_postgres() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if _answers("127.0.0.1", 5432):
        return DEFAULT_DATABASE_URL
    bindir = _pg_bin()
    if os.environ.get("CI") == "true" or bindir is None:
        raise SystemExit("tests: PostgreSQL does not answer on 127.0.0.1:5432; set DATABASE_URL or start it.")
    return _throwaway_cluster(bindir)


def ensure_redis() -> str:
    url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    if url == DEFAULT_REDIS_URL and not _answers("127.0.0.1", 6379):
        raise SystemExit("tests: Redis does not answer on 127.0.0.1:6379; set REDIS_URL or start it.")
    return url
