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
from hub.models import AuditEntry
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
    return Q(pk__in=_workspace_ids(actor, VIEW_WORKSPACE)) | Q(pk__in=by_user)


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
    return Q(pk__in=_held_persons(own)) | Q(pk__in=_shares_to(own).values("person_id"))


def _persons_with_any(own: set[int], categories: Iterable[str]) -> QuerySet[Any]:
    """Persons of whom the agencies ``own`` may see at least one of ``categories``."""
    wanted = Q()
    for category in categories:
        wanted |= _category_q(category)
    shared = _shares_to(own).filter(wanted).values("person_id")
    return Person.objects.filter(Q(pk__in=_held_persons(own)) | Q(pk__in=shared), merged_into=None).values("pk")


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
        return False
    if action == "view":
        return is_visible(actor, obj)
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
    if isinstance(obj, WorkspaceMembership):
        if action == "remove":
            return obj.agency_id != obj.workspace.coordinator_agency_id and _manages_workspace(actor, obj.workspace)
        return False
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
