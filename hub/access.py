"""THE access policy of the hub: the only place that decides who sees and does what.

HTML views, API viewsets, the websocket consumer and exports all ask here:

- ``visible(actor, Model)`` returns the queryset of rows the actor may see,
  scoped by plain foreign keys (and guardian's direct-FK grants on Workspace);
- ``can(actor, action, obj)`` answers whether the actor may do ``action``;
- ``require(actor, action, obj)`` raises ``Http404`` when the object is not
  visible at all (missing and forbidden look the same) and ``PermissionDenied``
  when it is visible but the action is not allowed;
- ``audience(obj)`` names the channel groups that should hear of a change.

Access follows the actor's *active* Staff memberships, read afresh for every
request, so deactivating a membership ends access at once. Superusers get
nothing extra here: the policy knows no superuser shortcut.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404

from agencies.models import (
    Agency,
    Invitation,
    Role,
    Staff,
    Workspace,
    WorkspaceGroupObjectPermission,
    WorkspaceMembership,
    WorkspaceUserObjectPermission,
)
from housing.models import (
    HousingRequest,
    LeaseHandover,
    Listing,
    ListingChange,
    ListingPhoto,
    ListingShare,
    ListingStatus,
    OverLimitApproval,
    RentLimit,
    Reservation,
    Tenancy,
)
from hub.models import AuditEntry
from hub.queries import among
from referrals.models import (
    CaseFile,
    Category,
    Consent,
    Enrollment,
    Household,
    Measure,
    Person,
    Plan,
    PlanStep,
    Profile,
    RecognitionProcedure,
    Referral,
    ReferralStatusChange,
    ResponsibilityTransfer,
    Share,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from agencies.models import User

    Actor = User | AnonymousUser

VIEW_WORKSPACE = "view_workspace"
MANAGE_WORKSPACE = "manage_workspace"
_CACHE_ATTR = "_hub_access_memberships"
_MANAGES_CACHE_ATTR = "_hub_access_manages"


@dataclass(frozen=True)
class Membership:
    staff_id: int
    agency_id: int
    group_id: int
    roles: frozenset[str]


def memberships(actor: Actor) -> tuple[Membership, ...]:
    """The actor's active memberships, loaded once per user object (that is, per request)."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return ()
    cached = getattr(actor, _CACHE_ATTR, None)
    if cached is None:
        rows = Staff.objects.filter(user_id=actor.pk, is_active=True).select_related("agency")
        cached = tuple(
            Membership(staff_id=s.pk, agency_id=s.agency_id, group_id=s.agency.group_id, roles=frozenset(s.roles))
            for s in rows
        )
        setattr(actor, _CACHE_ATTR, cached)
    return cached


def forget(actor: Actor) -> None:
    """Drop the cached answers, after a service changed memberships or grants within the same request."""
    for attr in (_CACHE_ATTR, _MANAGES_CACHE_ATTR):
        if hasattr(actor, attr):
            delattr(actor, attr)


def agency_ids(actor: Actor, *roles: str) -> set[int]:
    """The actor's agencies, or only those where they hold one of ``roles``."""
    return {m.agency_id for m in memberships(actor) if not roles or m.roles.intersection(roles)}


def acting_agency_id(actor: Actor, among: Iterable[int] | None = None) -> int | None:
    """The agency the actor acts for: the first membership that is among ``among``, if given."""
    allowed = set(among) if among is not None else None
    for m in memberships(actor):
        if allowed is None or m.agency_id in allowed:
            return m.agency_id
    return None


def _workspace_ids(actor: Actor, codename: str, *roles: str) -> QuerySet[Any]:
    """Ids of workspaces granted ``codename`` to the actor's agencies (those where they hold ``roles``)."""
    groups = [m.group_id for m in memberships(actor) if not roles or m.roles.intersection(roles)]
    return WorkspaceGroupObjectPermission.objects.filter(group_id__in=groups, permission__codename=codename).values(
        "content_object_id"
    )


def _visible_workspaces(actor: Actor) -> Q:
    """Workspaces of the actor's agencies, plus the exceptional grant to the actor alone."""
    by_user = WorkspaceUserObjectPermission.objects.filter(
        user_id=cast(int, actor.pk), permission__codename=VIEW_WORKSPACE
    ).values("content_object_id")
    return among("pk", _workspace_ids(actor, VIEW_WORKSPACE), by_user)


def _partner_agency_ids(actor: Actor) -> QuerySet[Any]:
    return WorkspaceMembership.objects.filter(
        workspace__in=Workspace.objects.filter(_visible_workspaces(actor))
    ).values("agency_id")


def visible[M: models.Model](actor: Actor, model: type[M]) -> QuerySet[M]:
    """The rows of ``model`` the actor may see. Unknown models are refused, not opened."""
    if not memberships(actor):
        return model._default_manager.none()
    own = agency_ids(actor)
    admin_of = agency_ids(actor, Role.AGENCY_ADMIN)
    qs: QuerySet[Any]
    if model is Agency:
        qs = Agency.objects.filter(Q(pk__in=own) | Q(pk__in=_partner_agency_ids(actor)))
    elif model is Staff:
        partners = Q(pk__in=own) | Q(pk__in=_partner_agency_ids(actor))
        qs = Staff.objects.filter(
            Q(agency_id__in=admin_of) | Q(is_active=True, agency__in=Agency.objects.filter(partners))
        )
    elif model is Workspace:
        qs = Workspace.objects.filter(_visible_workspaces(actor))
    elif model is WorkspaceMembership:
        qs = WorkspaceMembership.objects.filter(workspace__in=Workspace.objects.filter(_visible_workspaces(actor)))
    elif model is Invitation:
        qs = Invitation.objects.filter(agency_id__in=admin_of)
    elif model is AuditEntry:
        qs = AuditEntry.objects.filter(agency_id__in=admin_of)
    elif model is Person:
        qs = Person.objects.filter(merged_into=None).filter(_person_filter(own))
    elif model is Household:
        qs = Household.objects.filter(members__in=Person.objects.filter(_person_filter(own))).distinct()
    elif model is CaseFile:
        qs = CaseFile.objects.filter(person__in=Person.objects.filter(_person_filter(own)))
    elif model is Share:
        qs = Share.objects.filter(Q(from_agency_id__in=own) | Q(to_agency_id__in=own))
    elif model is Consent:
        # The holders of the person's files, and the recipients, who must be able to check their basis.
        qs = Consent.objects.filter(
            Q(person__in=_held_persons(own))
            | Q(recipients__in=own, person__in=Person.objects.filter(_person_filter(own)))
        ).distinct()
    elif model is Referral:
        qs = Referral.objects.filter(Q(from_agency_id__in=own) | Q(to_agency_id__in=own))
    elif model is ReferralStatusChange:
        qs = ReferralStatusChange.objects.filter(
            Q(referral__from_agency_id__in=own) | Q(referral__to_agency_id__in=own)
        )
    elif model is Profile:
        qs = Profile.objects.filter(person__in=_persons_with_any(own, PROFILE_CATEGORIES))
    elif model is Plan:
        qs = Plan.objects.filter(person__in=_persons_with_any(own, {Category.PLAN}))
    elif model is PlanStep:
        qs = PlanStep.objects.filter(plan__person__in=_persons_with_any(own, {Category.PLAN}))
    elif model is RecognitionProcedure:
        qs = RecognitionProcedure.objects.filter(person__in=_persons_with_any(own, {Category.EDUCATION}))
    elif model is Measure:
        # The catalogue of offers holds no personal data: every member of an agency sees it.
        qs = Measure.objects.all()
    elif model is Enrollment:
        qs = Enrollment.objects.filter(
            Q(measure__provider_id__in=own) | Q(person__in=_persons_with_any(own, {Category.PLAN}))
        )
    elif model is ResponsibilityTransfer:
        qs = ResponsibilityTransfer.objects.filter(Q(from_agency_id__in=own) | Q(to_agency_id__in=own))
    elif model in HOUSING_MODELS:
        qs = _visible_housing(actor, model, own)
    elif model._meta.label_lower == COMMENT:
        qs = model._default_manager.filter(_comment_scope(own, actor))
    elif model._meta.label_lower in MEETING_PARTS:
        qs = _visible_meeting_parts(actor, model, own)
    elif model._meta.label_lower in PRIVACY_MODELS:
        qs = _visible_privacy(actor, model)
    else:
        raise LookupError(f"hub.access has no rule for {model.__name__}; add one before exposing it.")
    return qs  # type: ignore[return-value]


# Persons and data categories ------------------------------------------------------------
#
# An agency holding an open case file sees every category of the person; an agency with
# an active share sees the union of its shares' categories. Categories are stored as JSON
# lists of fixed codes, so matching the quoted code works on PostgreSQL and SQLite alike.

PROFILE_CATEGORIES = frozenset({Category.LANGUAGES, Category.EDUCATION, Category.WORK, Category.HEALTH})


def _held_persons(own: set[int]) -> QuerySet[Any]:
    return CaseFile.objects.filter(agency_id__in=own, closed_at=None).values("person_id")


def _shares_to(own: set[int]) -> QuerySet[Share]:
    return Share.objects.filter(to_agency_id__in=own, ended_at=None)


def _category_q(category: str, prefix: str = "") -> Q:
    return Q(**{f"{prefix}categories__icontains": f'"{category}"'})


def _person_filter(own: set[int]) -> Q:
    return among("pk", _held_persons(own), _shares_to(own).values("person_id"))


def _persons_with_any(own: set[int], categories: Iterable[str]) -> QuerySet[Any]:
    """Persons of whom the agencies ``own`` may see at least one of ``categories``."""
    wanted = Q()
    for category in categories:
        wanted |= _category_q(category)
    shared = _shares_to(own).filter(wanted).values("person_id")
    return Person.objects.filter(among("pk", _held_persons(own), shared), merged_into=None).values("pk")


def person_categories(actor: Actor, person: Person) -> frozenset[str]:
    """The data categories of ``person`` the actor may see; empty when the person is not visible."""
    return person_categories_many(actor, [person]).get(person.pk, frozenset())


def person_categories_many(actor: Actor, persons: Iterable[Person]) -> dict[int, frozenset[str]]:
    """``person_categories`` for a whole page of persons in two queries, whatever its size."""
    wanted = {person.pk for person in persons if person.merged_into_id is None}
    own = agency_ids(actor)
    answers: dict[int, frozenset[str]] = {pk: frozenset() for pk in wanted}
    if not own or not wanted:
        return answers
    held = set(
        CaseFile.objects.filter(person_id__in=wanted, agency_id__in=own, closed_at=None).values_list(
            "person_id", flat=True
        )
    )
    seen: dict[int, set[str]] = {}
    shares = _shares_to(own).filter(person_id__in=wanted - held).values_list("person_id", "categories")
    for person_id, categories in shares:
        seen.setdefault(person_id, set()).update(categories)
    known = set(Category.values)
    for pk in wanted:
        answers[pk] = frozenset(known) if pk in held else frozenset(seen.get(pk, set()) & known)
    return answers


def holds(actor: Actor, person: Person, *roles: str) -> bool:
    """Whether one of the actor's agencies (where they hold ``roles``) has the person in its own files."""
    agencies = agency_ids(actor, *roles)
    return bool(agencies) and CaseFile.objects.filter(person=person, agency_id__in=agencies, closed_at=None).exists()


def is_visible(actor: Actor, obj: models.Model) -> bool:
    return visible(actor, type(obj)).filter(pk=obj.pk).exists()


def _manages_workspace(actor: Actor, workspace: Workspace) -> bool:
    """Asked once per workspace and request: a workspace page asks it for every member agency."""
    answers: dict[int, bool] | None = getattr(actor, _MANAGES_CACHE_ATTR, None)
    if answers is None:
        answers = {}
        setattr(actor, _MANAGES_CACHE_ATTR, answers)
    if workspace.pk not in answers:
        answers[workspace.pk] = (
            _workspace_ids(actor, MANAGE_WORKSPACE, Role.COORDINATOR, Role.AGENCY_ADMIN)
            .filter(content_object_id=workspace.pk)
            .exists()
        )
    return answers[workspace.pk]


def can(actor: Actor, action: str, obj: models.Model | type[models.Model]) -> bool:
    """Whether the actor may do ``action`` on ``obj`` (an instance, or a model for "create")."""
    if not memberships(actor):
        return False
    if isinstance(obj, type):
        if obj is Workspace and action == "create":
            return bool(agency_ids(actor, Role.COORDINATOR, Role.AGENCY_ADMIN))
        if obj is Person and action == "create":
            return bool(agency_ids(actor, *CASE_ROLES))
        if obj is Measure and action == "create":
            return bool(_provider_agencies(actor))
        if obj in HOUSING_MODELS:
            return _can_create_housing(actor, action, obj)
        return False
    if action == "view":
        return is_visible(actor, obj)
    if action == "comment":
        return bool(comment_agencies(actor, obj))
    if action in PRIVACY_ACTIONS:
        return _can_privacy(actor, action, obj)
    if obj._meta.label_lower == COMMENT:
        return _may_change_comment(actor, obj, action)
    if obj._meta.label_lower in MEETING_PARTS:
        return _can_meeting(actor, action, obj)
    admin_of = agency_ids(actor, Role.AGENCY_ADMIN)
    if isinstance(obj, Agency):
        return action in {"change", "invite", "manage_staff"} and obj.pk in admin_of
    if isinstance(obj, Staff):
        if obj.agency_id not in admin_of:
            return False
        if action == "change":
            return True
        if action == "deactivate":
            # An admin cannot lock themselves out of their own agency.
            return obj.is_active and obj.user_id != actor.pk
        if action == "reactivate":
            return not obj.is_active
        return False
    if isinstance(obj, Invitation):
        return action == "revoke" and obj.agency_id in admin_of and obj.is_open
    if isinstance(obj, Workspace):
        if action in {"change", "add_agency", "archive"}:
            return _manages_workspace(actor, obj)
        if action == "plan_meeting":
            return coordinates(actor, obj) and is_visible(actor, obj)
        return False
    if isinstance(obj, Person):
        return action in PERSON_ACTIONS and holds(actor, obj, *CASE_ROLES)
    if isinstance(obj, Referral):
        side = REFERRAL_ACTIONS.get(action)
        agency = {"sender": obj.from_agency_id, "receiver": obj.to_agency_id}.get(side or "")
        return agency is not None and agency in agency_ids(actor, *CASE_ROLES)
    if isinstance(obj, Consent):
        return action == "revoke" and obj.revoked_at is None and holds(actor, obj.person, *CASE_ROLES)
    if isinstance(obj, Share):
        return action == "end" and obj.ended_at is None and obj.from_agency_id in agency_ids(actor, *CASE_ROLES)
    if isinstance(obj, Plan):
        return action in {"change", "add_step", "agree", "close"} and holds(actor, obj.person, *CASE_ROLES)
    if isinstance(obj, PlanStep):
        # The agency that owns a step reports its progress even when it does not hold the file,
        # as far as a share of the plan lets it see the step: owning a step discloses nothing.
        return action == "change" and (
            holds(actor, obj.plan.person, *CASE_ROLES)
            or (obj.owner_agency_id in agency_ids(actor, *CASE_ROLES) and is_visible(actor, obj))
        )
    if isinstance(obj, RecognitionProcedure):
        return action == "change" and holds(actor, obj.person, *CASE_ROLES)
    if isinstance(obj, Measure):
        return action == "change" and obj.provider_id in _provider_agencies(actor)
    if isinstance(obj, Enrollment):
        return action in {"cancel", "complete"} and (
            obj.measure.provider_id in _provider_agencies(actor)
            or (action == "cancel" and obj.requested_by_agency_id in agency_ids(actor, *CASE_ROLES))
        )
    if isinstance(obj, ResponsibilityTransfer):
        deciding_agency = {"complete": obj.to_agency_id, "cancel": obj.from_agency_id}.get(action)
        return obj.status == "proposed" and deciding_agency in agency_ids(actor, *CASE_ROLES)
    if isinstance(obj, HOUSING_MODELS):
        return _can_housing(actor, action, obj)
    if isinstance(obj, WorkspaceMembership):
        if action == "remove":
            return obj.agency_id != obj.workspace.coordinator_agency_id and _manages_workspace(actor, obj.workspace)
        return False
    return False


# Data protection ------------------------------------------------------------------------------
#
# The privacy app's records are known here by label, like the meetings: nothing below it imports
# it. An agency's data-protection officers read the read-access log of their own agency's staff
# (never another agency's) and place legal holds for it. The deletion log holds no personal data;
# every data-protection officer reads it. A person's request of access (art. 15 GDPR) is answered
# by the caseworkers and coordinators holding the file and by the data-protection officers of an
# agency that sees the person, each with what their own agency sees.

DPO_ROLES = (Role.DATA_PROTECTION_OFFICER,)
READ_ACCESS = "privacy.readaccess"
DELETION_LOG = "privacy.deletionlogentry"
LEGAL_HOLD = "privacy.legalhold"
PRIVACY_MODELS = frozenset({READ_ACCESS, DELETION_LOG, LEGAL_HOLD})
PRIVACY_ACTIONS = frozenset({"subject_access", "read_log", "legal_hold", "lift_hold"})


def dpo_agencies(actor: Actor) -> set[int]:
    """The agencies where the actor is a data-protection officer."""
    return agency_ids(actor, *DPO_ROLES)


def _visible_privacy(actor: Actor, model: type[models.Model]) -> QuerySet[Any]:
    officer_of = dpo_agencies(actor)
    if model._meta.label_lower == DELETION_LOG:
        return model._default_manager.all() if officer_of else model._default_manager.none()
    return model._default_manager.filter(agency_id__in=officer_of)


def _sees_person_as_dpo(actor: Actor, person: Person) -> bool:
    officer_of = dpo_agencies(actor)
    if not officer_of:
        return False
    return Person.objects.filter(_person_filter(officer_of), pk=person.pk, merged_into=None).exists()


def _can_privacy(actor: Actor, action: str, obj: models.Model) -> bool:
    if isinstance(obj, Person):
        if action == "subject_access":
            return holds(actor, obj, *CASE_ROLES) or _sees_person_as_dpo(actor, obj)
        return action == "legal_hold" and _sees_person_as_dpo(actor, obj)
    if isinstance(obj, Agency):
        return action == "read_log" and obj.pk in dpo_agencies(actor)
    if obj._meta.label_lower == LEGAL_HOLD and action == "lift_hold":
        hold = cast(Any, obj)
        return hold.lifted_at is None and hold.agency_id in dpo_agencies(actor)
    return False


# Who writes case data: caseworkers and coordinators; read-only members and the other roles do not.
CASE_ROLES = (Role.CASEWORKER, Role.COORDINATOR)

# What the agencies holding a person's file may do with it.
PERSON_ACTIONS = frozenset(
    {"change", "share", "refer", "record_consent", "profile", "plan", "transfer", "merge", "recognition", "enroll"}
)

# Which side of a referral may take each step; the state machine itself is in referrals.services.
REFERRAL_ACTIONS = {
    "send": "sender",
    "withdraw": "sender",
    "redirect": "sender",
    "receive": "receiver",
    "accept": "receiver",
    "decline": "receiver",
    "waitlist": "receiver",
    "start": "receiver",
    "complete": "receiver",
    "fail": "receiver",
}


def _provider_agencies(actor: Actor) -> set[int]:
    """Agencies whose offers the actor maintains: course providers' caseworkers, coordinators and admins."""
    providers = agency_ids(actor, *CASE_ROLES, Role.AGENCY_ADMIN)
    if not providers:
        return set()
    return set(Agency.objects.filter(pk__in=providers, kind="course_provider").values_list("pk", flat=True))


def require(actor: Actor, action: str, obj: models.Model | type[models.Model]) -> None:
    """Raise unless the actor may do ``action``: 404 when they may not even see ``obj``."""
    if can(actor, action, obj):
        return
    if isinstance(obj, models.Model) and not is_visible(actor, obj):
        raise Http404
    raise PermissionDenied


def get_visible_or_404[M: models.Model](actor: Actor, model: type[M], **lookup: Any) -> M:
    try:
        return visible(actor, model).get(**lookup)
    except (model.DoesNotExist, ValueError, TypeError) as exc:  # type: ignore[attr-defined]
        raise Http404 from exc


def groups_for(actor: Actor) -> set[str]:
    """The channel groups the actor may listen to right now."""
    if not memberships(actor):
        return set()
    names = {f"user.{actor.pk}"}
    names.update(f"agency.{agency_id}" for agency_id in agency_ids(actor))
    names.update(f"workspace.{pk}" for pk in visible(actor, Workspace).values_list("pk", flat=True))
    return names


def audience(obj: models.Model) -> set[str]:
    """The channel groups that should hear of a change to ``obj``. Events carry no personal data."""
    if isinstance(obj, Workspace):
        return {f"workspace.{obj.pk}"}
    if isinstance(obj, WorkspaceMembership):
        return {f"workspace.{obj.workspace_id}", f"agency.{obj.agency_id}"}
    if isinstance(obj, Agency):
        return {f"agency.{obj.pk}"}
    if isinstance(obj, Staff):
        return {f"agency.{obj.agency_id}", f"user.{obj.user_id}"}
    if isinstance(obj, Invitation):
        return {f"agency.{obj.agency_id}"}
    if isinstance(obj, Referral | ResponsibilityTransfer):
        return {f"agency.{obj.from_agency_id}", f"agency.{obj.to_agency_id}"}
    if isinstance(obj, Measure):
        return {f"agency.{obj.provider_id}"} | {
            f"workspace.{pk}"
            for pk in WorkspaceMembership.objects.filter(agency_id=obj.provider_id).values_list(
                "workspace_id", flat=True
            )
        }
    if isinstance(obj, Enrollment):
        return {f"agency.{obj.measure.provider_id}", f"agency.{obj.requested_by_agency_id}"}
    if obj._meta.label_lower == COMMENT:
        comment = cast(Any, obj)
        return {f"agency.{pk}" for pk in comment_readers(comment.target, comment.category or None)}
    if obj._meta.label_lower in MEETING_PARTS:
        return {f"agency.{pk}" for pk in meeting_agencies(_meeting_of(obj))}
    if isinstance(obj, HOUSING_MODELS):
        return _housing_audience(obj)
    person = _person_of(obj)
    if person is not None:
        holders = CaseFile.objects.filter(person=person, closed_at=None).values_list("agency_id", flat=True)
        receivers = Share.objects.filter(person=person, ended_at=None).values_list("to_agency_id", flat=True)
        return {f"agency.{pk}" for pk in {*holders, *receivers}}
    raise LookupError(f"hub.access has no audience rule for {type(obj).__name__}.")


def _person_of(obj: models.Model) -> Person | None:
    if isinstance(obj, Person):
        return obj
    if isinstance(obj, PlanStep):
        return obj.plan.person
    if isinstance(obj, CaseFile | Consent | Share | Profile | Plan | RecognitionProcedure):
        return obj.person
    return None


# Comments -------------------------------------------------------------------------------------
#
# hub.access must not import messaging (nothing below it may), so it knows the comment model by
# its label. Who reads a comment follows its target; on a person also the comment's data
# category, because a comment is free text and must not disclose more than a share does. Each
# kind of target has one rule in ``comment_readers`` and the same rule as a query in
# ``_comment_scope``.

COMMENT = "messaging.comment"


def _comment_scope(own: set[int], actor: Actor) -> Q:
    referrals = Referral.objects.filter(Q(from_agency_id__in=own) | Q(to_agency_id__in=own)).values("pk")
    on_persons = Q(person__in=_held_persons(own))
    for category in Category.values:
        shared = _shares_to(own).filter(_category_q(category)).values("person_id")
        on_persons |= Q(category=category, person__in=shared)
    on_listings = Q(listing__in=_visible_listings(actor, own).values("pk"))
    on_agenda_items = Q(agenda_item__meeting__in=_visible_meetings(actor, own))
    return Q(referral__in=referrals) | on_persons | on_listings | on_agenda_items


def comment_readers(target: models.Model | None, category: str | None = None) -> set[int]:
    """The agencies that read comments on ``target``: on a person, those that see ``category``
    (the holders of an open file, and receivers of an active share of it), or any category when None."""
    if isinstance(target, Referral):
        return {target.from_agency_id, target.to_agency_id}
    if isinstance(target, Person):
        if target.merged_into_id is not None:
            return set()
        holders = CaseFile.objects.filter(person=target, closed_at=None).values_list("agency_id", flat=True)
        shares = Share.objects.filter(person=target, ended_at=None)
        if category is not None:
            shares = shares.filter(_category_q(category))
        return {*holders, *shares.values_list("to_agency_id", flat=True)}
    if isinstance(target, Listing):
        return _listing_readers(target)
    if target is not None and target._meta.label_lower == AGENDA_ITEM:
        # Everyone who sees the meeting reads the discussion of its agenda.
        return meeting_agencies(_meeting_of(target))
    raise LookupError(f"hub.access has no comment rule for {type(target).__name__}.")


def _listing_readers(listing: Listing) -> set[int]:
    """The agencies that see a flat (as ``_visible_listings`` decides): its owner, and once it is
    published the agencies it is shared with, directly or as members of a shared workspace."""
    readers = {listing.owner_agency_id}
    if listing.status == ListingStatus.DRAFT:
        return readers
    shares = ListingShare.objects.filter(listing=listing)
    readers.update(shares.exclude(agency=None).values_list("agency_id", flat=True))
    # A workspace is seen by the agencies whose group holds its view grant (``_visible_workspaces``).
    groups = WorkspaceGroupObjectPermission.objects.filter(
        content_object_id__in=shares.exclude(workspace=None).values("workspace_id"),
        permission__codename=VIEW_WORKSPACE,
    ).values("group_id")
    readers.update(Agency.objects.filter(group_id__in=groups).values_list("pk", flat=True))
    return readers


def comment_agencies(actor: Actor, target: models.Model, category: str | None = None) -> set[int]:
    """The actor's agencies for which they may comment on ``target`` (in ``category``): caseworkers
    and coordinators of an agency that reads those comments. Read-only members only read."""
    # On a flat its housing officers discuss it as well.
    roles = (*CASE_ROLES, *HOUSING_ROLES) if isinstance(target, Listing) else CASE_ROLES
    mine = agency_ids(actor, *roles)
    return comment_readers(target, category) & mine if mine else set()


def _may_change_comment(actor: Actor, comment: Any, action: str) -> bool:
    """Only the author edits or deletes, while still a member who sees it; a deleted comment stays deleted."""
    return (
        action in {"change", "delete"}
        and comment.author_id == actor.pk
        and comment.deleted_at is None
        and is_visible(actor, comment)
    )


# Housing ---------------------------------------------------------------------------------
#
# A listing is the owner agency's (its housing officers manage it) and is seen by the agencies
# it is shared with, directly or through a workspace, once it is published. Rows naming a
# household (reservations, tenancies, approvals) are seen by the listing's owner and by whoever
# may see the household. The jobcenter maintains the rent limits and approves flats above them.

HOUSING_MODELS = (
    Listing,
    ListingShare,
    ListingPhoto,
    ListingChange,
    RentLimit,
    HousingRequest,
    Reservation,
    Tenancy,
    LeaseHandover,
    OverLimitApproval,
)
HOUSING_ROLES = (Role.HOUSING_OFFICER,)
KDU_ROLES = (Role.HOUSING_OFFICER, Role.AGENCY_ADMIN)
LISTING_ACTIONS = frozenset({"change", "publish", "withdraw", "end", "reopen", "share", "add_photo", "reserve"})


def _visible_listings(actor: Actor, own: set[int]) -> QuerySet[Listing]:
    workspaces = Workspace.objects.filter(_visible_workspaces(actor)).values("pk")
    owned = Listing.objects.filter(owner_agency_id__in=own).values("pk")
    shared_with_agency = ListingShare.objects.filter(agency_id__in=own).values("listing_id")
    shared_at_table = ListingShare.objects.filter(workspace_id__in=workspaces).values("listing_id")
    # A draft stays with its owner, shared or not.
    return Listing.objects.filter(among("pk", owned, shared_with_agency, shared_at_table)).filter(
        Q(owner_agency_id__in=own) | ~Q(status=ListingStatus.DRAFT)
    )


def _visible_household_ids(own: set[int]) -> QuerySet[Any]:
    return Person.objects.filter(_person_filter(own)).exclude(household=None).values("household_id")


def _visible_housing(actor: Actor, model: type[models.Model], own: set[int]) -> QuerySet[Any]:
    owned = Listing.objects.filter(owner_agency_id__in=own).values("pk")
    if model is Listing:
        return _visible_listings(actor, own)
    if model is ListingPhoto:
        return ListingPhoto.objects.filter(listing__in=_visible_listings(actor, own).values("pk"))
    if model is ListingShare:
        return ListingShare.objects.filter(listing_id__in=owned)
    if model is ListingChange:
        return ListingChange.objects.filter(listing_id__in=owned)
    if model is RentLimit:
        # The table of reasonable costs holds no personal data: every member of an agency reads it.
        return RentLimit.objects.all()
    if model is HousingRequest:
        return HousingRequest.objects.filter(Q(requesting_agency_id__in=own) | Q(to_agency_id__in=own))
    households = _visible_household_ids(own)
    if model is Reservation:
        return Reservation.objects.filter(
            Q(listing_id__in=owned) | Q(household_id__in=households) | Q(request__requesting_agency_id__in=own)
        )
    if model is Tenancy:
        return Tenancy.objects.filter(Q(listing_id__in=owned) | Q(household_id__in=households))
    if model is LeaseHandover:
        return LeaseHandover.objects.filter(Q(tenancy__listing_id__in=owned) | Q(tenancy__household_id__in=households))
    if model is OverLimitApproval:
        return OverLimitApproval.objects.filter(
            Q(agency_id__in=own) | Q(listing_id__in=owned) | Q(household_id__in=households)
        )
    raise LookupError(f"hub.access has no rule for {model.__name__}; add one before exposing it.")


def kdu_agencies(actor: Actor) -> set[int]:
    """Jobcenters where the actor maintains the rent limits: their housing officers and admins."""
    candidates = agency_ids(actor, *KDU_ROLES)
    if not candidates:
        return set()
    return set(Agency.objects.filter(pk__in=candidates, kind="jobcenter").values_list("pk", flat=True))


def _can_create_housing(actor: Actor, action: str, model: type[models.Model]) -> bool:
    if action != "create":
        return False
    if model is Listing:
        return bool(agency_ids(actor, *HOUSING_ROLES))
    if model is HousingRequest:
        return bool(agency_ids(actor, *CASE_ROLES))
    if model in {RentLimit, OverLimitApproval}:
        return bool(kdu_agencies(actor))
    return False


def _manages_listing(actor: Actor, listing_owner_id: int) -> bool:
    return listing_owner_id in agency_ids(actor, *HOUSING_ROLES)


def _can_housing(actor: Actor, action: str, obj: models.Model) -> bool:
    if isinstance(obj, Listing):
        if action == "request":
            return bool(agency_ids(actor, *CASE_ROLES)) and is_visible(actor, obj)
        return action in LISTING_ACTIONS and _manages_listing(actor, obj.owner_agency_id)
    if isinstance(obj, ListingPhoto | ListingShare):
        return action == "delete" and _manages_listing(actor, obj.listing.owner_agency_id)
    if isinstance(obj, RentLimit):
        return action in {"change", "delete"} and obj.agency_id in kdu_agencies(actor)
    if isinstance(obj, HousingRequest):
        if obj.status != "open":
            return False
        if action == "withdraw":
            return obj.requesting_agency_id in agency_ids(actor, *CASE_ROLES)
        return action in {"accept", "decline"} and obj.to_agency_id in agency_ids(actor, *HOUSING_ROLES)
    if isinstance(obj, Reservation):
        return action in {"release", "allocate"} and _manages_listing(actor, obj.listing.owner_agency_id)
    if isinstance(obj, Tenancy):
        if action in {"move_in", "move_out"}:
            return _manages_listing(actor, obj.listing.owner_agency_id)
        if action == "handover":
            # The agency that took over responsibility for the household (the jobcenter) records it as well.
            return (
                _manages_listing(actor, obj.listing.owner_agency_id)
                or Person.objects.filter(
                    household_id=obj.household_id,
                    merged_into=None,
                    responsible_agency_id__in=agency_ids(actor, *HOUSING_ROLES),
                ).exists()
            )
    return False


def _household_holders(household_id: int) -> set[int]:
    return set(
        CaseFile.objects.filter(person__household_id=household_id, closed_at=None).values_list("agency_id", flat=True)
    )


def _housing_audience(obj: models.Model) -> set[str]:
    if isinstance(obj, Listing):
        groups = {f"agency.{obj.owner_agency_id}"}
        if obj.status != ListingStatus.DRAFT:
            for agency_id, workspace_id in ListingShare.objects.filter(listing=obj).values_list(
                "agency_id", "workspace_id"
            ):
                groups.add(f"agency.{agency_id}" if agency_id else f"workspace.{workspace_id}")
        return groups
    if isinstance(obj, ListingPhoto | ListingShare | ListingChange):
        return _housing_audience(obj.listing)
    if isinstance(obj, RentLimit):
        workspaces = WorkspaceMembership.objects.filter(agency_id=obj.agency_id).values_list("workspace_id", flat=True)
        return {f"agency.{obj.agency_id}"} | {f"workspace.{pk}" for pk in workspaces}
    if isinstance(obj, HousingRequest):
        return {f"agency.{obj.requesting_agency_id}", f"agency.{obj.to_agency_id}"}
    if isinstance(obj, LeaseHandover):
        return _housing_audience(obj.tenancy)
    if isinstance(obj, Reservation | Tenancy | OverLimitApproval):
        agencies = {obj.listing.owner_agency_id, *_household_holders(obj.household_id)}
        if isinstance(obj, OverLimitApproval):
            agencies.add(obj.agency_id)
        return {f"agency.{pk}" for pk in agencies}
    raise LookupError(f"hub.access has no audience rule for {type(obj).__name__}.")


# Meetings ---------------------------------------------------------------------------------
#
# Meetings live in ``messaging``, which nothing below it may import, so the policy knows their
# models by label and follows their foreign keys by name. A meeting is seen by the agencies
# invited to it and by its workspace's coordinating agency, as long as they still sit at the
# round table; a member agency that was not invited does not see it at all. The coordinating
# agency's coordinators run it (agenda order, minutes, decisions, approval); caseworkers and
# coordinators of every invited agency propose agenda items; the agency owning an action item
# reports its progress.

MEETING = "messaging.meeting"
AGENDA_ITEM = "messaging.agendaitem"
ACTION_ITEM = "messaging.actionitem"
# Each meeting model and the path from it to its meeting.
MEETING_PARTS = {
    MEETING: "",
    "messaging.meetinginvitation": "meeting",
    "messaging.attendance": "meeting",
    AGENDA_ITEM: "meeting",
    "messaging.decision": "agenda_item__meeting",
    ACTION_ITEM: "meeting",
    "messaging.minutesversion": "meeting",
}
MEETING_RUN_ACTIONS = frozenset(
    {
        "change",
        "cancel",
        "hold",
        "close",
        "invite",
        "attendance",
        "order_agenda",
        "write_minutes",
        "decide",
        "add_action_item",
        "circulate",
        "approve",
        "correct",
    }
)


def _meeting_model() -> type[models.Model]:
    from django.apps import apps

    return apps.get_model(MEETING)


def _visible_meetings(actor: Actor, own: set[int]) -> QuerySet[Any]:
    """Ids of the meetings the actor sees: invited, or coordinating, at a round table it still sits at."""
    meetings = _meeting_model()._default_manager
    invited = meetings.filter(invitations__agency_id__in=own).values("pk")
    return meetings.filter(
        Q(pk__in=invited) | Q(workspace__coordinator_agency_id__in=own),
        workspace__in=Workspace.objects.filter(_visible_workspaces(actor)),
    ).values("pk")


def _visible_meeting_parts(actor: Actor, model: type[models.Model], own: set[int]) -> QuerySet[Any]:
    path = MEETING_PARTS[model._meta.label_lower]
    lookup = f"{path}__in" if path else "pk__in"
    return model._default_manager.filter(**{lookup: _visible_meetings(actor, own)})


def _meeting_of(obj: models.Model) -> Any:
    found: Any = obj
    path = MEETING_PARTS[obj._meta.label_lower]
    for step in path.split("__") if path else []:
        found = getattr(found, step)
    return found


def meeting_agencies(meeting: Any) -> set[int]:
    """The agencies that see a meeting: those invited, and the coordinating agency."""
    # An agency that has left the round table since it was invited no longer counts.
    invited = meeting.invitations.filter(agency__workspace_memberships__workspace_id=meeting.workspace_id).values_list(
        "agency_id", flat=True
    )
    return set(invited) | {meeting.workspace.coordinator_agency_id}


def coordinates(actor: Actor, workspace: Workspace) -> bool:
    """Whether the actor is a coordinator of the agency that coordinates the round table."""
    return workspace.coordinator_agency_id in agency_ids(actor, Role.COORDINATOR)


def _can_meeting(actor: Actor, action: str, obj: models.Model) -> bool:
    meeting = _meeting_of(obj)
    if not is_visible(actor, meeting):
        return False
    label = obj._meta.label_lower
    if label == MEETING and action == "propose":
        return bool(meeting_agencies(meeting) & agency_ids(actor, *CASE_ROLES))
    if label == ACTION_ITEM and action == "report":
        item = cast(Any, obj)
        return item.owner_agency_id in agency_ids(actor, *CASE_ROLES) or coordinates(actor, meeting.workspace)
    if label in {MEETING, AGENDA_ITEM, ACTION_ITEM} and action in MEETING_RUN_ACTIONS:
        return coordinates(actor, meeting.workspace)
    return False


# Figures ----------------------------------------------------------------------------------------
#
# A round table's figures are read by every staff member of an agency at the table, read-only
# members included: they are aggregates with small numbers hidden (``reporting.figures``). An
# agency's own figures, which hide nothing, are read by its own staff only.


def sees_figures_of(actor: Actor, target: Workspace | Agency) -> bool:
    if isinstance(target, Workspace):
        return visible(actor, Workspace).filter(pk=target.pk).exists()
    return target.pk in agency_ids(actor)
