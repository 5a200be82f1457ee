"""Comments on flats: read by the agencies that see the flat (its housing office and, once it is
published, those it is shared with), written by their caseworkers, coordinators and housing officers.

The world: hana's social office manages the flat and shares it with the round table (jobcenter,
social and youth office); olga's immigration authority shares nothing with them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from agencies.models import User
from housing import services as housing_services
from housing.models import Listing
from hub import access
from hub.models import AuditEntry, Event
from messaging import selectors, services
from messaging.models import Comment, Notification, NotificationKind
from tests.conftest import World
from tests.housing.helpers import Housing, make_housing, make_limits, make_listing

pytestmark = pytest.mark.django_db

PERSONAS = ("alice", "bob", "carol", "olga", "rita", "adam", "cora", "hana", "theo")
ROUND_TABLE = {"alice", "bob", "carol", "rita", "adam", "cora", "hana", "theo"}


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def housing(world: World) -> Housing:
    found = make_housing(world)
    make_limits(found)
    return found


def user(name: str) -> User:
    return User.objects.get(username=name)


def readers(comment: Comment) -> set[str]:
    return {name for name in PERSONAS if access.visible(user(name), Comment).filter(pk=comment.pk).exists()}


def writers(listing: Listing) -> set[str]:
    return {name for name in PERSONAS if access.can(user(name), "comment", listing)}


def login(found: User) -> Client:
    client = Client()
    client.force_login(found)
    return client


def test_a_comment_on_a_flat_is_read_by_the_agencies_that_see_it(housing: Housing) -> None:
    listing = make_listing(housing)
    comment = services.comment_create(actor=housing.hana, target=listing, body="Besichtigung am Freitag")
    assert comment.listing == listing and comment.agency == housing.world.social_office and comment.category == ""
    assert readers(comment) == ROUND_TABLE
    assert set(access.comment_readers(listing)) == {
        housing.world.social_office.pk,
        housing.world.jobcenter.pk,
        housing.world.youth_office.pk,
    }
    audit = AuditEntry.objects.filter(action="comment.create", target_id=str(comment.pk)).get()
    assert audit.changes["length"] == [0, len("Besichtigung am Freitag")] and "Besichtigung" not in str(audit.changes)
    event = Event.objects.filter(verb="comment.created").latest("id")
    assert event.payload == {"on": "listing", "on_id": listing.pk}
    assert set(event.audience) == {f"agency.{pk}" for pk in access.comment_readers(listing)}
    assert (
        services.comment_url(comment) == reverse("housing-listing-detail", args=[listing.pk]) + f"#comment-{comment.pk}"
    )


def test_who_writes_on_a_flat(housing: Housing) -> None:
    listing = make_listing(housing)
    # Case workers, coordinators and housing officers of a reading agency; read-only members and admins read.
    assert writers(listing) == {"alice", "bob", "carol", "cora", "hana", "theo"}
    with pytest.raises(PermissionDenied):
        services.comment_create(actor=housing.world.rita, target=listing, body="x")
    with pytest.raises(Http404):
        services.comment_create(actor=housing.world.olga, target=listing, body="x")
    with pytest.raises(ValidationError):
        services.comment_create(actor=housing.world.alice, target=listing, body="x", category="plan")
    assert not Comment.objects.exists()


def test_a_draft_is_discussed_by_its_housing_office_only(housing: Housing) -> None:
    draft = make_listing(housing, publish=False)
    comment = services.comment_create(actor=housing.hana, target=draft, body="Fotos fehlen noch")
    assert readers(comment) == {"bob", "hana"}
    assert writers(draft) == {"bob", "hana"}
    housing_services.listing_transition(actor=housing.hana, listing=draft, action="publish")
    draft.refresh_from_db()
    assert readers(comment) == ROUND_TABLE


def test_unsharing_ends_reading_the_comments(housing: Housing) -> None:
    listing = make_listing(housing)
    comment = services.comment_create(actor=housing.world.alice, target=listing, body="Passt für Familie H.")
    share = listing.shares.get()
    housing_services.listing_unshare(actor=housing.hana, share=share)
    listing.refresh_from_db()
    assert readers(comment) == {"bob", "hana"}
    assert list(selectors.comment_thread(housing.world.alice, listing)) == []


def test_mentions_reach_only_who_sees_the_flat(housing: Housing) -> None:
    listing = make_listing(housing)
    comment = services.comment_create(actor=housing.hana, target=listing, body="@theo passt die Miete?")
    assert list(comment.mentions.all()) == [housing.theo]
    notice = Notification.objects.get(recipient=housing.theo)
    assert notice.kind == NotificationKind.MENTIONED and notice.url == services.comment_url(comment)
    with pytest.raises(ValidationError):
        services.comment_create(actor=housing.hana, target=listing, body="@olga bitte ansehen")
    mentionable = set(selectors.mentionable_staff(housing.hana, listing).values_list("username", flat=True))
    assert {"alice", "theo", "carol"} <= mentionable and "olga" not in mentionable


def test_the_thread_costs_a_constant_number_of_queries(
    housing: Housing, django_assert_num_queries: Callable[..., Any]
) -> None:
    listing = make_listing(housing)

    def count() -> int:
        alice = User.objects.get(pk=housing.world.alice.pk)
        with django_assert_num_queries(3):  # memberships, the thread, the mentions
            return len(list(selectors.comment_thread(alice, listing)))

    services.comment_create(actor=housing.hana, target=listing, body="eins")
    assert count() == 1
    for number in range(5):
        services.comment_create(actor=housing.hana, target=listing, body=f"@alice Nummer {number}")
    assert count() == 6


def test_the_flat_page_shows_the_thread_and_takes_comments(housing: Housing) -> None:
    listing = make_listing(housing)
    detail = reverse("housing-listing-detail", args=[listing.pk])
    alice = login(housing.world.alice)
    page = alice.get(detail).content.decode()
    assert f'id="comments-listing-{listing.pk}"' in page
    assert reverse("comment-create-listing", args=[listing.pk]) in page
    response = alice.post(reverse("comment-create-listing", args=[listing.pk]), {"body": "Ist ein Balkon dabei?"})
    comment = Comment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{detail}#comment-{comment.pk}"
    assert "Ist ein Balkon dabei?" in login(housing.hana).get(detail).content.decode()
    # With htmx the section is swapped in place.
    response = alice.post(
        reverse("comment-create-listing", args=[listing.pk]), {"body": "Danke"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert "Danke" in response.content.decode()
    # An empty comment is refused on the form.
    response = alice.post(reverse("comment-create-listing", args=[listing.pk]), {"body": ""})
    assert response.status_code == 200 and Comment.objects.count() == 2
    # Read-only members read but get no form; the outsider finds nothing.
    rita_page = login(housing.world.rita).get(detail).content.decode()
    assert "Ist ein Balkon dabei?" in rita_page
    assert reverse("comment-create-listing", args=[listing.pk]) not in rita_page
    assert (
        login(housing.world.rita).post(reverse("comment-create-listing", args=[listing.pk]), {"body": "x"}).status_code
        == 403
    )
    assert login(housing.world.olga).get(reverse("comment-thread-listing", args=[listing.pk])).status_code == 404
    # The author edits and deletes on the pages every comment has.
    assert alice.post(reverse("comment-edit", args=[comment.pk]), {"body": "Mit Balkon?"}).status_code == 302
    comment.refresh_from_db()
    assert comment.body == "Mit Balkon?"
    assert login(housing.hana).get(reverse("comment-edit", args=[comment.pk])).status_code == 403


def test_the_api_thread_of_a_flat(housing: Housing) -> None:
    listing = make_listing(housing)
    url = reverse("api:listing-comments", args=[listing.pk])
    alice = APIClient()
    alice.force_authenticate(housing.world.alice)
    created = alice.post(url, {"body": "Frei ab März? @" + housing.hana.username}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["target"] == "listing" and created.json()["listing"] == listing.pk
    assert [m["id"] for m in created.json()["mentions"]] == [housing.hana.pk]
    assert "category" in alice.post(url, {"body": "x", "category": "plan"}, format="json").json()  # no category here
    assert "body" in alice.post(url, {"body": ""}, format="json").json()
    hana = APIClient()
    hana.force_authenticate(housing.hana)
    assert [c["body"] for c in hana.get(url).json()["results"]] == [f"Frei ab März? @{housing.hana.username}"]
    olga = APIClient()
    olga.force_authenticate(housing.world.olga)
    assert olga.get(url).status_code == 404
    assert olga.post(url, {"body": "Hallo"}, format="json").status_code == 404
    assert Comment.objects.count() == 1
