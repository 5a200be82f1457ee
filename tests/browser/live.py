"""What a spawned live server unpickles before Django is set up: nothing here may import models."""

from __future__ import annotations


def use_database(name: str) -> None:
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = name
