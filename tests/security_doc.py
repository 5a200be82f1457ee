"""Writes the generated parts of docs/security.md (the permission concept): the access matrix, and
the retention periods from the rules the retention job applies.

    uv run python -m tests.security_doc          # rewrite the table in docs/security.md
    uv run python -m tests.security_doc --check  # exit 1 when the committed table is stale

The table is the matrix of tests/access_matrix.py, which tests/test_access_matrix.py runs against
the application: every route × method × persona, allowed or refused, with the HTTP status
the test expects. Only the part between the markers is rewritten; the rest of the page is
written by hand.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "security.md"
BEGIN = "<!-- BEGIN GENERATED: access matrix (python -m tests.security_doc) -->"
END = "<!-- END GENERATED: access matrix -->"
RETENTION_BEGIN = "<!-- BEGIN GENERATED: retention periods (python -m tests.security_doc) -->"
RETENTION_END = "<!-- END GENERATED: retention periods -->"

# Who the personas are: the matrix names people, the concept speaks of roles.
PERSONA_ROLES = {
    "alice": "Jobcenter, caseworker",
    "bob": "social office, caseworker (housing officer in the housing rows)",
    "carol": "youth office, caseworker (same round table, not invited to the meeting)",
    "olga": "immigration authority, caseworker (shares no round table)",
    "rita": "Jobcenter, read-only",
    "adam": "Jobcenter, agency administrator",
    "cora": "Jobcenter, coordinator (runs the round table's meetings)",
    "anon": "not signed in",
}


def allowed(route: str, persona: str, status: int) -> bool:
    """Whether an expected status means the persona may do it.

    A 400 is allowed: the request passed the permission check and only its (deliberately
    invalid) input was refused. A redirect is allowed after a write, but for an anonymous
    visitor it is the way to the login page, except on the public pages that redirect anyone.
    """
    from tests.test_access_matrix import PUBLIC_REDIRECTS

    if persona == "anon" and status == 302:
        return route in PUBLIC_REDIRECTS
    return status < 401


def render() -> str:
    """The generated Markdown: the personas, then one table row per matrix row."""
    from tests.access_matrix import ROWS
    from tests.conftest import PERSONAS

    lines = [
        BEGIN,
        "",
        "Generated from `tests/access_matrix.py`; do not edit by hand. `✓` allowed, `✗` refused, with the HTTP",
        "status the matrix test expects (400: allowed, but the test sends invalid input; 302 for `anon`: sent",
        'to the login page). Rows labelled "foreign" use an object of the immigration authority, which shares',
        'nothing with the others (IDOR check); "shared" an object shared with the social office.',
        "",
        "| persona | agency and role |",
        "|---|---|",
        *(f"| {name} | {PERSONA_ROLES[name]} |" for name in PERSONAS),
        "",
        "| route | method | case | " + " | ".join(PERSONAS) + " |",
        "|---|---|---|" + "---|" * len(PERSONAS),
    ]
    for row in sorted(ROWS, key=lambda row: (row.name, row.method, row.label)):
        cells = []
        for persona in PERSONAS:
            status = row.statuses[persona]
            cells.append(f"{'✓' if allowed(row.name, persona, status) else '✗'} {status}")
        lines.append(f"| `{row.name}` | {row.method} | {row.label} | " + " | ".join(cells) + " |")
    lines += ["", END]
    return "\n".join(lines)


def render_retention() -> str:
    """The retention rules as the job applies them, with the periods configured now."""
    from django.utils import translation

    from privacy.retention import RULES

    lines = [
        RETENTION_BEGIN,
        "",
        "Generated from `privacy/retention.py` and the settings; do not edit by hand.",
        "",
        "| rule | what happens | after (days) | setting |",
        "|---|---|---|---|",
    ]
    with translation.override("en"):
        for rule in RULES:
            lines.append(f"| `{rule.name}` | {rule.label} | {rule.days} | `PRIVACY_{rule.name.upper()}_DAYS` |")
    lines += ["", RETENTION_END]
    return "\n".join(lines)


def generated_part(text: str, begin: str = BEGIN, end: str = END) -> str:
    start, stop = text.index(begin), text.index(end) + len(end)
    return text[start:stop]


def parts() -> list[tuple[str, str, str]]:
    """Each generated part: its markers and what belongs between them now."""
    return [(BEGIN, END, render()), (RETENTION_BEGIN, RETENTION_END, render_retention())]


def stale(text: str) -> bool:
    return any(generated_part(text, begin, end) != fresh for begin, end, fresh in parts())


def write(path: Path = DOC) -> bool:
    """Replace the generated parts; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    updated = text
    for begin, end, fresh in parts():
        updated = updated.replace(generated_part(updated, begin, end), fresh)
    if updated == text:
        return False
    path.write_text(updated, encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    # The matrix imports models; no database is touched.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    if "--check" in argv:
        if stale(DOC.read_text(encoding="utf-8")):
            print("docs/security.md is stale: run `uv run python -m tests.security_doc`.", file=sys.stderr)
            return 1
        return 0
    print("docs/security.md updated." if write() else "docs/security.md is up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
