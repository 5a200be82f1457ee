"""Comment threads with @mentions on referrals and persons: services, selectors, the access policy
for every persona, notifications, the API, the pages (with and without htmx) and the live events.

The world: alice (jobcenter) holds Amina's file. A sent referral gives bob's social office a share of
identity and contact; a share on the consent gives carol's youth office her languages. olga's
immigration authority shares nothing with them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from agencies import services as agency_services
from agencies.models import User
from hub import access
from hub.models import AuditEntry, Event
from messaging import selectors, services
from messaging.models import Comment, Notification, NotificationKind, mentioned_usernames
from referrals import services as referral_services
from referrals.models import Category, Person, Referral
from tests.conftest import Case, World, make_user, run_queued_tasks

pytestmark = pytest.mark.django_db

SOON = datetime.date.today() + datetime.timedelta(days=14)  # noqa: DTZ011  # a date far enough ahead
JOBCENTER = {"alice", "rita", "adam", "cora"}


@dataclass
class Setting:
    person: Person
    referral: Referral


@pytest.fixture
def setting(world: World, case: Case) -> Setting:
    referral = referral_services.referral_create(
        actor=world.alice,
        person=case.person,
        to_agency=world.social_office,
        reason="Beratung zur Wohnsituation",
        categories=["identity", "contact"],
        legal_basis="consent",
        consent=case.consent,
        answer_due_on=SOON,
    )
    referral_services.share_create(
        actor=world.alice,
        person=case.person,
        to_agency=world.youth_office,
        categories=["identity", "languages"],
        legal_basis="consent",
        consent=case.consent,
    )
    return Setting(person=case.person, referral=referral)


def on_referral(world: World, setting: Setting, body: str = "Termin am Montag?") -> Comment:
    return services.comment_create(actor=world.alice, target=setting.referral, body=body)


def on_person(world: World, setting: Setting, category: str, body: str = "Bitte Rückruf") -> Comment:
    return services.comment_create(actor=world.alice, target=setting.person, body=body, category=category)


def readers(comment: Comment) -> set[str]:
    names = ("alice", "bob", "carol", "olga", "rita", "adam", "cora")
    return {name for name in names if access.visible(User.objects.get(username=name), Comment).filter(pk=comment.pk)}


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# Mentions in the text ----------------------------------------------------------------------


def test_mentions_are_usernames_after_an_at_sign_without_trailing_punctuation() -> None:
    body = "Hallo @jobcenter.caseworker, bitte mit @bob. klären; Mail an a@b.de (@carol) und @bob!"
    assert mentioned_usernames(body) == ["jobcenter.caseworker", "bob", "carol"]
    assert mentioned_usernames("@ nobody, @. @-x") == ["-x"]


# Services ----------------------------------------------------------------------------------


def test_comment_on_a_referral(world: World, setting: Setting) -> None:
    comment = on_referral(world, setting, body="  Rückfrage an @bob: passt Montag?  ")
    comment.refresh_from_db()
    assert comment.referral == setting.referral and comment.person is None and comment.category == ""
    assert comment.author == world.alice and comment.agency == world.jobcenter
    assert comment.body == "Rückfrage an @bob: passt Montag?"
    assert list(comment.mentions.all()) == [world.bob]
    entry = AuditEntry.objects.get(action="comment.create")
    assert entry.target_id == str(comment.pk) and entry.agency_id == world.jobcenter.pk
    assert "Montag" not in str(entry.changes) and "Montag" not in entry.target_label
    assert entry.changes["length"] == [0, len(comment.body)]
    event = Event.objects.get(verb="comment.created")
    assert set(event.audience) == {f"agency.{world.jobcenter.pk}", f"agency.{world.social_office.pk}"}
    assert event.payload == {"on": "referral", "on_id": setting.referral.pk}
    notification = Notification.objects.get(kind=NotificationKind.MENTIONED)
    assert notification.recipient == world.bob
    assert notification.url == reverse("referral-detail", args=[setting.referral.pk]) + f"#comment-{comment.pk}"


def test_the_receiving_side_comments_for_its_agency(world: World, setting: Setting) -> None:
    comment = services.comment_create(actor=world.bob, target=setting.referral, body="Passt.")
    assert comment.agency == world.social_office


@pytest.mark.parametrize(("persona", "error"), [("rita", PermissionDenied), ("adam", PermissionDenied)])
def test_read_only_members_and_admins_do_not_write(world: World, setting: Setting, persona: str, error: type) -> None:
    with pytest.raises(error):
        services.comment_create(actor=world.persona(persona), target=setting.referral, body="x")
    with pytest.raises(error):
        services.comment_create(actor=world.persona(persona), target=setting.person, body="x", category="plan")
    assert not Comment.objects.exists()


@pytest.mark.parametrize("persona", ["carol", "olga"])
def test_who_cannot_see_the_referral_gets_404(world: World, setting: Setting, persona: str) -> None:
    with pytest.raises(Http404):
        services.comment_create(actor=world.persona(persona), target=setting.referral, body="x")


def test_olga_does_not_see_the_person(world: World, setting: Setting) -> None:
    with pytest.raises(Http404):
        services.comment_create(actor=world.olga, target=setting.person, body="x", category="identity")


def test_a_person_comment_needs_a_category_the_author_sees(world: World, setting: Setting) -> None:
    with pytest.raises(ValidationError) as missing:
        services.comment_create(actor=world.alice, target=setting.person, body="x")
    assert "category" in missing.value.message_dict
    with pytest.raises(ValidationError) as unseen:
        services.comment_create(actor=world.bob, target=setting.person, body="x", category="plan")
    assert "category" in unseen.value.message_dict
    with pytest.raises(ValidationError) as on_referral_:
        services.comment_create(actor=world.alice, target=setting.referral, body="x", category="plan")
    assert "category" in on_referral_.value.message_dict
    bobs = services.comment_create(actor=world.bob, target=setting.person, body="Neue Nummer", category="contact")
    assert bobs.agency == world.social_office
    assert Comment.objects.count() == 1


@pytest.mark.parametrize("body", ["", "   \n ", "x" * 5001])
def test_the_body_is_required_and_bounded(world: World, setting: Setting, body: str) -> None:
    with pytest.raises(ValidationError) as error:
        on_referral(world, setting, body=body)
    assert "body" in error.value.message_dict
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    ("target", "category", "refused"),
    [
        ("referral", "", "olga"),  # the outsider
        ("referral", "", "carol"),  # another agency at the table, not a side of this referral
        ("person", "plan", "bob"),  # bob's share lacks the plan
        ("person", "health", "carol"),  # carol's share has languages only
        ("referral", "", "nobody"),  # no such user
    ],
)
def test_a_mention_of_someone_who_may_not_read_is_refused(
    world: World, setting: Setting, target: str, category: str, refused: str
) -> None:
    with pytest.raises(ValidationError) as error:
        services.comment_create(
            actor=world.alice,
            target=getattr(setting, target),
            body=f"Siehe @cora und @{refused}.",
            category=category,
        )
    assert error.value.message_dict["body"][0].endswith(f"@{refused}")
    assert "@cora" not in error.value.message_dict["body"][0]
    assert not Comment.objects.exists() and not Notification.objects.filter(kind="mentioned").exists()
    assert not Event.objects.filter(verb="comment.created").exists()


def test_mentions_within_the_shared_categories(world: World, setting: Setting) -> None:
    on_person(world, setting, "contact", body="@bob bitte Adresse prüfen")
    on_person(world, setting, "languages", body="@carol Sprachkurs?")
    assert set(Notification.objects.filter(kind="mentioned").values_list("recipient__username", flat=True)) == {
        "bob",
        "carol",
    }


def test_inactive_users_cannot_be_mentioned(world: World, setting: Setting) -> None:
    agency_services.staff_deactivate(actor=world.adam, staff=world.staff(world.rita))
    with pytest.raises(ValidationError):
        on_referral(world, setting, body="@rita")
    world.cora.is_active = False
    world.cora.save(update_fields=["is_active"])
    with pytest.raises(ValidationError):
        on_referral(world, setting, body="@cora")


def test_mentioning_oneself_notifies_nobody(world: World, setting: Setting) -> None:
    comment = on_referral(world, setting, body="Notiz für @alice")
    assert list(comment.mentions.all()) == [world.alice]
    assert not Notification.objects.filter(kind="mentioned").exists()


def test_mention_mail_follows_the_preference(world: World, setting: Setting) -> None:
    mail.outbox.clear()
    run_queued_tasks()  # the referral's own notice to bob
    mail.outbox.clear()
    on_referral(world, setting, body="@bob bitte melden")
    run_queued_tasks()
    assert [message.to for message in mail.outbox] == [[world.bob.email]]
    assert "melden" not in mail.outbox[0].body and "Amina" not in mail.outbox[0].body
    mail.outbox.clear()
    services.preference_update(actor=world.bob, email_mentioned=False)
    on_referral(world, setting, body="@bob noch einmal")
    run_queued_tasks()
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=world.bob, kind="mentioned").count() == 2


def test_edit_notifies_only_new_mentions(world: World, setting: Setting) -> None:
    comment = on_referral(world, setting, body="@bob bitte melden")
    updated = services.comment_update(actor=world.alice, comment=comment, body="@bob und @cora bitte melden")
    assert updated.edited_at is not None
    assert set(updated.mentions.values_list("username", flat=True)) == {"bob", "cora"}
    mentioned = Notification.objects.filter(kind="mentioned")
    assert sorted(mentioned.values_list("recipient__username", flat=True)) == ["bob", "cora"]
    entry = AuditEntry.objects.get(action="comment.update")
    assert "melden" not in str(entry.changes)
    assert Event.objects.filter(verb="comment.updated", target_id=str(comment.pk)).exists()
    with pytest.raises(ValidationError):
        services.comment_update(actor=world.alice, comment=comment, body="@olga")
    comment.refresh_from_db()
    assert comment.body == "@bob und @cora bitte melden"


def test_only_the_author_edits_and_deletes(world: World, setting: Setting) -> None:
    comment = on_referral(world, setting)
    for persona, error in [("bob", PermissionDenied), ("cora", PermissionDenied), ("rita", PermissionDenied)]:
        with pytest.raises(error):
            services.comment_update(actor=world.persona(persona), comment=comment, body="geändert")
        with pytest.raises(error):
            services.comment_delete(actor=world.persona(persona), comment=comment)
    for persona in ("carol", "olga"):
        with pytest.raises(Http404):
            services.comment_update(actor=world.persona(persona), comment=comment, body="geändert")
    comment.refresh_from_db()
    assert comment.body == "Termin am Montag?" and comment.deleted_at is None


def test_an_author_who_left_the_agency_no_longer_edits(world: World, setting: Setting) -> None:
    comment = on_referral(world, setting)
    agency_services.staff_deactivate(actor=world.adam, staff=world.staff(world.alice))
    access.forget(world.alice)
    with pytest.raises(Http404):
        services.comment_update(actor=world.alice, comment=comment, body="geändert")


def test_delete_keeps_the_row_without_the_text(world: World, setting: Setting) -> None:
    comment = on_referral(world, setting, body="@bob vertraulich")
    deleted = services.comment_delete(actor=world.alice, comment=comment)
    deleted.refresh_from_db()
    assert deleted.body == "" and deleted.deleted_at is not None and not deleted.mentions.exists()
    assert AuditEntry.objects.get(action="comment.delete").changes == {"length": [len("@bob vertraulich"), 0]}
    assert Event.objects.filter(verb="comment.deleted", target_id=str(comment.pk)).exists()
    with pytest.raises(PermissionDenied):  # a deleted comment cannot be edited or deleted again
        services.comment_update(actor=world.alice, comment=deleted, body="wieder da")
    assert [c.pk for c in selectors.comment_thread(world.bob, setting.referral)] == [comment.pk]


def test_comments_follow_a_merge(world: World, setting: Setting) -> None:
    duplicate = referral_services.person_create(
        actor=world.alice,
        agency=world.jobcenter,
        first_name="Amina",
        last_name="Hadad",
        birth_date=datetime.date(1990, 4, 12),
        nationality="syrisch",
    )
    comment = services.comment_create(actor=world.alice, target=duplicate, body="Doppelt?", category="identity")
    referral_services.person_merge(actor=world.alice, keep=setting.person, duplicate=duplicate)
    comment.refresh_from_db()
    assert comment.person == setting.person
    assert comment in selectors.comment_thread(world.alice, setting.person)


# The access policy, for every persona -------------------------------------------------------


def test_a_referral_comment_is_read_by_both_sides(world: World, setting: Setting) -> None:
    assert readers(on_referral(world, setting)) == JOBCENTER | {"bob"}


@pytest.mark.parametrize(
    ("category", "others"),
    [
        ("plan", set()),
        ("health", set()),
        ("contact", {"bob"}),
        ("identity", {"bob", "carol"}),
        ("languages", {"carol"}),
    ],
)
def test_a_person_comment_is_read_only_by_who_sees_its_category(
    world: World, setting: Setting, category: str, others: set[str]
) -> None:
    comment = on_person(world, setting, category)
    assert readers(comment) == JOBCENTER | others
    expected = {f"agency.{world.jobcenter.pk}"} | {
        f"agency.{agency.pk}"
        for name, agency in (("bob", world.social_office), ("carol", world.youth_office))
        if name in others
    }
    assert access.audience(comment) == expected


def test_ending_a_share_ends_reading_its_comments(world: World, setting: Setting) -> None:
    comment = on_person(world, setting, "contact")
    assert "bob" in readers(comment)
    referral_services.referral_transition(actor=world.alice, referral=setting.referral, action="withdraw")
    assert "bob" not in readers(comment)
    # The referral's own thread stays with both sides: the referral is still theirs.
    assert "bob" in readers(on_referral(world, setting))


def test_can_for_every_persona(world: World, setting: Setting) -> None:
    comment = on_referral(world, setting)
    may_comment = {name for name in ("alice", "bob", "carol", "olga", "rita", "adam", "cora")}
    assert {n for n in may_comment if access.can(world.persona(n), "comment", setting.referral)} == {
        "alice",
        "bob",
        "cora",
    }
    assert {n for n in may_comment if access.can(world.persona(n), "comment", setting.person)} == {
        "alice",
        "bob",
        "carol",
        "cora",
    }
    assert {n for n in may_comment if access.can(world.persona(n), "change", comment)} == {"alice"}
    assert {n for n in may_comment if access.can(world.persona(n), "view", comment)} == JOBCENTER | {"bob"}


# Selectors ----------------------------------------------------------------------------------


def test_the_thread_costs_a_constant_number_of_queries(
    world: World, setting: Setting, django_assert_num_queries: Callable[..., Any]
) -> None:
    def count() -> int:
        bob = User.objects.get(pk=world.bob.pk)  # a fresh user object: memberships are read once
        with django_assert_num_queries(3):  # memberships, the thread, the mentions
            return len(list(selectors.comment_thread(bob, setting.referral)))

    on_referral(world, setting, body="@bob eins")
    assert count() == 1
    for number in range(6):
        on_referral(world, setting, body=f"@bob @cora Nummer {number}")
    services.comment_create(actor=world.bob, target=setting.referral, body="@alice ja")
    assert count() == 8


def test_the_thread_is_in_order_and_scoped(world: World, setting: Setting) -> None:
    first = on_person(world, setting, "contact", body="erst")
    on_person(world, setting, "plan", body="nur Jobcenter")
    third = services.comment_create(actor=world.bob, target=setting.person, body="dann", category="contact")
    on_referral(world, setting)
    assert list(selectors.comment_thread(world.bob, setting.person)) == [first, third]
    assert len(selectors.comment_thread(world.alice, setting.person)) == 3
    assert list(selectors.comment_thread(world.olga, setting.person)) == []


def test_mentionable_staff(world: World, setting: Setting) -> None:
    def names(actor: User, target: Any, category: str = "") -> set[str]:
        return set(selectors.mentionable_staff(actor, target, category).values_list("username", flat=True))

    assert names(world.alice, setting.referral) == JOBCENTER | {"bob", "sam"}
    assert names(world.alice, setting.person, "plan") == JOBCENTER
    assert names(world.alice, setting.person, "languages") == JOBCENTER | {"carol", "yara"}
    assert names(world.bob, setting.person, "contact") == JOBCENTER | {"bob", "sam"}


def test_commentable_categories(world: World, setting: Setting) -> None:
    assert selectors.commentable_categories(world.alice, setting.person) == list(Category.values)
    assert selectors.commentable_categories(world.bob, setting.person) == ["identity", "contact"]
    assert selectors.commentable_categories(world.carol, setting.person) == ["identity", "languages"]
    assert selectors.commentable_categories(world.rita, setting.person) == []


# The API --------------------------------------------------------------------------------------


def test_api_thread_and_create(world: World, setting: Setting) -> None:
    url = reverse("api:referral-comments", args=[setting.referral.pk])
    created = api(world.alice).post(url, {"body": "@bob passt Montag?"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["target"] == "referral" and body["referral"] == setting.referral.pk and body["may_change"]
    assert [user["username"] for user in body["mentions"]] == ["bob"]
    listed = api(world.bob).get(url).json()
    assert listed["count"] == 1 and listed["results"][0]["body"] == "@bob passt Montag?"
    assert listed["results"][0]["may_change"] is False
    assert api(world.olga).get(url).status_code == 404
    assert api(world.carol).get(url).status_code == 404
    assert api(world.rita).post(url, {"body": "x"}, format="json").status_code == 403


def test_api_refuses_bad_input_with_field_messages(world: World, setting: Setting) -> None:
    referral_url = reverse("api:referral-comments", args=[setting.referral.pk])
    person_url = reverse("api:person-comments", args=[setting.person.pk])
    alice = api(world.alice)
    answers = {
        "unknown": alice.post(referral_url, {"body": "x", "category": "plan"}, format="json"),
        "blank": alice.post(referral_url, {"body": "  "}, format="json"),
        "long": alice.post(referral_url, {"body": "x" * 5001}, format="json"),
        "mention": alice.post(referral_url, {"body": "@olga"}, format="json"),
        "no category": alice.post(person_url, {"body": "x"}, format="json"),
        "bad category": alice.post(person_url, {"body": "x", "category": "gossip"}, format="json"),
        "unseen category": api(world.bob).post(person_url, {"body": "x", "category": "plan"}, format="json"),
        "not json object": alice.post(referral_url, ["x"], format="json"),
    }
    for label, answer in answers.items():
        assert answer.status_code == 400, label
    assert set(answers["unknown"].json()) == {"category"}
    assert "body" in answers["blank"].json() and "body" in answers["long"].json()
    assert "@olga" in answers["mention"].json()["body"][0]
    assert "category" in answers["no category"].json() and "category" in answers["bad category"].json()
    assert "category" in answers["unseen category"].json()
    assert not Comment.objects.exists()


def test_api_person_thread_is_minimised(world: World, setting: Setting) -> None:
    url = reverse("api:person-comments", args=[setting.person.pk])
    assert api(world.alice).post(url, {"body": "Plan", "category": "plan"}, format="json").status_code == 201
    assert api(world.bob).post(url, {"body": "Kontakt", "category": "contact"}, format="json").status_code == 201
    assert [c["body"] for c in api(world.bob).get(url).json()["results"]] == ["Kontakt"]
    assert [c["body"] for c in api(world.rita).get(url).json()["results"]] == ["Plan", "Kontakt"]
    assert api(world.carol).get(url).json()["count"] == 0
    assert api(world.olga).get(url).status_code == 404


def test_api_edit_and_delete(world: World, setting: Setting) -> None:
    comment = on_referral(world, setting)
    url = reverse("api:comment-detail", args=[comment.pk])
    assert api(world.bob).get(url).json()["body"] == "Termin am Montag?"
    assert api(world.olga).get(url).status_code == 404
    assert api(world.bob).patch(url, {"body": "fremd"}, format="json").status_code == 403
    assert api(world.alice).patch(url, {"body": "x", "extra": 1}, format="json").status_code == 400
    changed = api(world.alice).patch(url, {"body": "Dienstag?"}, format="json")
    assert changed.status_code == 200 and changed.json()["edited_at"] is not None
    assert api(world.bob).delete(url).status_code == 403
    assert api(world.alice).delete(url).status_code == 204
    after = api(world.bob).get(url).json()
    assert after["is_deleted"] and after["body"] == ""
    assert api(world.alice).patch(url, {"body": "wieder"}, format="json").status_code == 403


# Pages ----------------------------------------------------------------------------------------


def test_the_referral_page_shows_the_thread_with_names_and_escapes_text(world: World, setting: Setting) -> None:
    on_referral(world, setting, body="<script>alert(1)</script> @bob\nzweite Zeile")
    page = login(world.bob).get(reverse("referral-detail", args=[setting.referral.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'id="comment-thread-referral-{setting.referral.pk}"' in html and 'data-live-part="comment"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert '<span class="mention">@Bob Becker</span><br>zweite Zeile' in html
    assert reverse("comment-create-referral", args=[setting.referral.pk]) in html
    assert "@sam" in html  # the list of people who can be mentioned


def test_read_only_members_see_the_thread_without_a_form(world: World, setting: Setting) -> None:
    on_referral(world, setting)
    html = login(world.rita).get(reverse("referral-detail", args=[setting.referral.pk])).content.decode()
    assert "Termin am Montag?" in html
    assert reverse("comment-create-referral", args=[setting.referral.pk]) not in html


def test_the_person_page_offers_only_the_categories_one_may_comment_in(world: World, setting: Setting) -> None:
    on_person(world, setting, "plan", body="nur für das Jobcenter")
    html = login(world.bob).get(reverse("person-detail", args=[setting.person.pk])).content.decode()
    assert "nur für das Jobcenter" not in html
    assert 'value="contact"' in html and 'value="plan"' not in html
    alice_html = login(world.alice).get(reverse("person-detail", args=[setting.person.pk])).content.decode()
    assert "nur für das Jobcenter" in alice_html and '<option value="plan" selected>' in alice_html


def test_posting_without_javascript_redirects_to_the_comment(world: World, setting: Setting) -> None:
    url = reverse("comment-create-person", args=[setting.person.pk])
    answer = login(world.bob).post(url, {"body": "@alice neue Adresse", "category": "contact"})
    comment = Comment.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("person-detail", args=[setting.person.pk]) + f"#comment-{comment.pk}"


def test_posting_with_htmx_swaps_the_section(world: World, setting: Setting) -> None:
    url = reverse("comment-create-referral", args=[setting.referral.pk])
    answer = login(world.alice).post(url, {"body": "@bob Montag?"}, headers={"HX-Request": "true"})
    html = answer.content.decode()
    assert answer.status_code == 200 and "<html" not in html
    assert html.startswith(f'<section id="comments-referral-{setting.referral.pk}"')
    assert "@Bob Becker" in html and 'role="status"' in html
    assert "Montag?</textarea>" not in html  # a fresh, empty form


def test_errors_show_on_the_form_with_and_without_htmx(world: World, setting: Setting) -> None:
    url = reverse("comment-create-referral", args=[setting.referral.pk])
    alice = login(world.alice)
    with_htmx = alice.post(url, {"body": "@olga hallo"}, headers={"HX-Request": "true"})
    assert with_htmx.status_code == 200 and "@olga" in with_htmx.content.decode()
    assert "hallo</textarea>" in with_htmx.content.decode()  # what was typed stays
    without = alice.post(url, {"body": ""})
    assert without.status_code == 200 and "<html" in without.content.decode()
    assert 'aria-invalid="true"' in without.content.decode()
    assert not Comment.objects.exists()


def test_the_thread_page_and_partial(world: World, setting: Setting) -> None:
    on_person(world, setting, "languages", body="Sprachkurs B1")
    url = reverse("comment-thread-person", args=[setting.person.pk])
    carol = login(world.carol)
    assert "Sprachkurs B1" in carol.get(url).content.decode()
    partial = carol.get(url, {"category": "languages"}, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and "Sprachkurs B1" in partial
    assert login(world.olga).get(url).status_code == 404


def test_choosing_a_category_refreshes_who_can_be_mentioned(world: World, setting: Setting) -> None:
    url = reverse("comment-thread-person", args=[setting.person.pk])
    alice = login(world.alice)
    page = alice.get(reverse("person-detail", args=[setting.person.pk])).content.decode()
    assert f'hx-get="{url}"' in page and f'hx-select="#mentionable-person-{setting.person.pk}"' in page
    assert "@carol" not in page  # the default category is the plan, which only the jobcenter reads
    languages = alice.get(url, {"category": "languages"}, headers={"HX-Request": "true"}).content.decode()
    assert "@carol" in languages and "@bob" not in languages
    unseen = login(world.bob).get(url, {"category": "plan"}, headers={"HX-Request": "true"}).content.decode()
    # A category bob does not see falls back to his first one, identity, which the youth office reads too.
    assert '<option value="identity" selected>' in unseen and "@carol" in unseen


def test_edit_and_delete_pages(world: World, setting: Setting) -> None:
    comment = on_referral(world, setting)
    edit_url = reverse("comment-edit", args=[comment.pk])
    delete_url = reverse("comment-delete", args=[comment.pk])
    alice = login(world.alice)
    assert "Termin am Montag?" in alice.get(edit_url).content.decode()
    assert login(world.bob).get(edit_url).status_code == 403
    assert login(world.carol).get(edit_url).status_code == 404
    changed = alice.post(edit_url, {"body": "Dienstag?"})
    assert changed.status_code == 302 and changed["Location"].endswith(f"#comment-{comment.pk}")
    comment.refresh_from_db()
    assert comment.body == "Dienstag?"
    confirm = alice.get(delete_url)
    assert confirm.status_code == 200 and "Dienstag?" in confirm.content.decode()
    assert alice.post(delete_url).status_code == 302
    comment.refresh_from_db()
    assert comment.is_deleted
    html = login(world.bob).get(reverse("referral-detail", args=[setting.referral.pk])).content.decode()
    assert "Dienstag?" not in html and "comment-deleted" in html
    assert alice.get(edit_url).status_code == 403


def test_preferences_offer_the_mention_switch(world: World) -> None:
    html = login(world.bob).get(reverse("notification-preferences")).content.decode()
    assert 'name="email_mentioned"' in html
    answer = api(world.bob).patch(reverse("api:notification-preference"), {"email_mentioned": False}, format="json")
    assert answer.status_code == 200 and answer.json()["email_mentioned"] is False


# Live updates ----------------------------------------------------------------------------------


def test_comment_events_reach_exactly_the_readers(world: World, setting: Setting) -> None:
    comment = on_person(world, setting, "languages", body="Sprachkurs")
    event = Event.objects.get(verb="comment.created", target_id=str(comment.pk))
    assert event.target_type == "messaging.comment"  # the pages' parts listen for "comment"
    audience = set(event.audience)
    for name in ("alice", "rita", "carol"):
        assert access.groups_for(world.persona(name)) & audience, name
    for name in ("bob", "olga"):
        assert not access.groups_for(world.persona(name)) & audience, name
    assert "Sprachkurs" not in str(event.payload)


def test_a_new_user_of_a_reading_agency_can_be_mentioned(world: World, setting: Setting) -> None:
    newcomer = make_user("sozialamt.caseworker", "Sina", "Sommer")
    agency_services.staff_create(actor=None, agency=world.social_office, user=newcomer, roles=["caseworker"])
    comment = on_referral(world, setting, body="Bitte @sozialamt.caseworker.")
    assert list(comment.mentions.all()) == [newcomer]
