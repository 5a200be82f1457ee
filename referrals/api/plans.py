"""API of the referrals app (plans); filled in by its viewsets."""

from rest_framework.routers import BaseRouter


def register(router: BaseRouter) -> None:
    """Register this module's viewsets on the app's router."""
