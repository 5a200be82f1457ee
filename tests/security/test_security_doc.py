"""docs/security.md carries the access matrix as it is now: regenerate it when the matrix changes."""

from __future__ import annotations

from tests.security_doc import (
    BEGIN,
    DOC,
    END,
    RETENTION_BEGIN,
    RETENTION_END,
    generated_part,
    render,
    render_retention,
)


def test_the_permission_concept_shows_the_current_matrix() -> None:
    committed = generated_part(DOC.read_text(encoding="utf-8"))
    assert committed == render(), "docs/security.md is stale: run `uv run python -m tests.security_doc`."


def test_the_deletion_concept_shows_the_current_retention_rules() -> None:
    committed = generated_part(DOC.read_text(encoding="utf-8"), RETENTION_BEGIN, RETENTION_END)
    assert committed == render_retention(), "docs/security.md is stale: run `uv run python -m tests.security_doc`."


def test_the_hand_written_parts_stay_outside_the_markers() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    for heading in ("## Legal bases", "## What is logged", "## Deletion concept", "## How the checks run"):
        assert text.index(heading) < text.index(BEGIN)
