"""HTML views of persons, households, consents and shares.

Views read through ``referrals.selectors`` and ``hub.access`` and write only through
``referrals.services``. What a page shows of a person follows ``PersonView``: a receiving
agency gets the fields of its shared categories only, never the rest blanked.
"""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agencies.models import Agency
from hub import access
from hub.access import PROFILE_CATEGORIES
from hub.pagination import OnePassPaginator
from hub.views import HubRequest
from hub.web import apply_errors, done, list_response, paginate, post_data, post_step, tune_filters
from privacy import reads
from referrals import selectors, services
from referrals.filters import PersonFilterSet
from referrals.forms.persons import ConsentForm, HouseholdForm, MergeForm, PersonCreateForm, PersonForm, ShareForm
from referrals.models import CATEGORY_FIELDS, Category, Consent, Person, Referral, ReferralStatus, Share
from referrals.selectors import PersonView

# Persons ----------------------------------------------------------------------------------


def agency_select(filterset: Any, name: str, agencies: Any) -> None:
    """Offer a FilterSet's agency-id filter as a list of the agencies the actor can see."""
    field = filterset.form.fields.get(name)
    if field is not None:
        choices = [("", _("All")), *((agency.pk, agency.name) for agency in agencies)]
        field.widget = forms.Select(choices=choices)


@login_required
def person_list(request: HubRequest) -> HttpResponse:
    actor = request.user
    filterset = tune_filters(PersonFilterSet(request.GET, queryset=selectors.person_list(actor), request=request))
    agency_select(filterset, "responsible_agency", access.visible(actor, Agency).order_by("name"))
    # The name search is the work here, not the page's rows: once per page, not once more to count.
    page = paginate(request, filterset.qs, paginator=OnePassPaginator)
    reads.note([person.pk for person in page.object_list], {Category.IDENTITY})
    context = {
        "filter": filterset,
        "page_obj": page,
        "may_create": access.can(actor, "create", Person),
    }
    return list_response(request, "referrals/persons/person_list.html", context)


@login_required
def person_create(request: HubRequest) -> HttpResponse:
    actor = request.user
    access.require(actor, "create", Person)
    agencies = Agency.objects.filter(pk__in=access.agency_ids(actor, *access.CASE_ROLES)).order_by("name")
    form = PersonCreateForm(post_data(request), agencies=agencies)
    duplicates: list[Person] = []
    if request.method == "POST" and form.is_valid():
        values = form.person_values()
        # A person has one master record: show the look-alikes first, create only when confirmed.
        if request.POST.get("confirm_duplicates") != "1":
            duplicates = services.possible_duplicates(
                actor,
                first_name=values["first_name"],
                last_name=values["last_name"],
                birth_date=values["birth_date"],
                nationality=values["nationality"],
            )
            reads.note([duplicate.pk for duplicate in duplicates], {Category.IDENTITY})
        if not duplicates:
            try:
                person = services.person_create(actor=actor, agency=form.cleaned_data["agency"], **values)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("%(name)s has been registered.") % {"name": person})
                return redirect("person-detail", pk=person.pk)
    return render(request, "referrals/persons/person_create.html", {"form": form, "duplicates": duplicates})


@dataclass(frozen=True)
class FieldRow:
    label: str
    value: Any
    multiline: bool = False


@dataclass(frozen=True)
class CategorySection:
    category: str
    label: str
    rows: list[FieldRow]


def category_sections(view: PersonView) -> list[CategorySection]:
    """The person's fields grouped by category, only the categories the actor may see."""
    values = view.fields
    sections = []
    for category, names in CATEGORY_FIELDS.items():
        if not view.may_see(category):
            continue
        rows = []
        for name in names:
            field = Person._meta.get_field(name)
            value = values[name]
            if getattr(field, "choices", None):
                value = dict(field.flatchoices).get(value, value)  # type: ignore[union-attr]
            elif isinstance(value, datetime.date):
                value = formats.date_format(value, "SHORT_DATE_FORMAT")
            multiline = isinstance(field, models.TextField)
            rows.append(FieldRow(label=str(field.verbose_name), value=value, multiline=multiline))  # type: ignore[union-attr]
        sections.append(CategorySection(category=category, label=str(Category(category).label), rows=rows))
    return sections


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime.datetime
    kind: str
    text: str
    note: str = ""
    url: str = ""


def timeline(referrals: list[Referral], consents: list[Consent], shares: list[Share]) -> list[TimelineEntry]:
    """One history of what happened around the person, newest first, from what the actor may see."""
    entries: list[TimelineEntry] = []
    for referral in referrals:
        url = reverse("referral-detail", args=[referral.pk])
        for change in referral.history.all():
            entries.append(
                TimelineEntry(
                    at=change.at,
                    kind="referral",
                    text=_("Referral %(reference)s from %(from)s to %(to)s: %(status)s")
                    % {
                        "reference": referral.reference,
                        "from": referral.from_agency.display_name,
                        "to": referral.to_agency.display_name,
                        "status": ReferralStatus(change.to_status).label,
                    },
                    note=change.note,
                    url=url,
                )
            )
    for consent in consents:
        entries.append(
            TimelineEntry(
                at=consent.recorded_at,
                kind="consent",
                text=_("Consent recorded by %(agency)s: %(purpose)s")
                % {"agency": consent.recorded_by_agency.display_name, "purpose": consent.purpose},
            )
        )
        if consent.revoked_at is not None:
            entries.append(
                TimelineEntry(
                    at=consent.revoked_at,
                    kind="consent",
                    text=_("Consent revoked: %(purpose)s") % {"purpose": consent.purpose},
                )
            )
    for share in shares:
        agencies = {"from": share.from_agency.display_name, "to": share.to_agency.display_name}
        entries.append(
            TimelineEntry(at=share.created_at, kind="share", text=_("Shared from %(from)s with %(to)s") % agencies)
        )
        if share.ended_at is not None:
            entries.append(
                TimelineEntry(at=share.ended_at, kind="share", text=_("Share from %(from)s to %(to)s ended") % agencies)
            )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries


@dataclass(frozen=True)
class ConsentRow:
    consent: Consent
    categories: list[str]
    may_revoke: bool


@dataclass(frozen=True)
class ShareRow:
    share: Share
    categories: list[str]
    may_end: bool


def category_labels(categories: list[str]) -> list[str]:
    return [str(Category(code).label) for code in Category.values if code in categories]


def _detail_context(request: HubRequest, view: PersonView, merge_form: MergeForm | None = None) -> dict[str, Any]:
    actor = request.user
    person = view.person
    referrals = list(selectors.person_referrals(actor, person))
    consents = list(selectors.person_consents(actor, person))
    shares = list(selectors.person_shares(actor, person))
    may = {
        action: access.can(actor, action, person)
        for action in ("change", "record_consent", "share", "refer", "merge", "subject_access")
    }
    all_categories = frozenset(Category.values)
    # What the page shows: the fields of the visible categories, referrals, consents and shares.
    shown = set(view.categories & set(CATEGORY_FIELDS))
    if referrals:
        shown.add(reads.REFERRALS)
    if consents or shares:
        shown.add(reads.CONSENTS)
    reads.note(person.pk, shown)
    return {
        "person": person,
        "view": view,
        "sections": category_sections(view),
        "limited_categories": category_labels(sorted(view.categories)) if view.categories != all_categories else [],
        "may": may,
        "referrals": referrals,
        "consent_rows": [
            ConsentRow(consent, category_labels(consent.categories), access.can(actor, "revoke", consent))
            for consent in consents
        ],
        "share_rows": [
            ShareRow(share, category_labels(share.categories), access.can(actor, "end", share)) for share in shares
        ],
        "timeline": timeline(referrals, consents, shares),
        # Links to the pages about the person's profile, plan, recognition and transfers, where they may look.
        "related": {
            "profile": bool(view.categories & PROFILE_CATEGORIES),
            "plan": view.may_see(Category.PLAN),
            "recognition": view.may_see(Category.EDUCATION),
            "transfers": view.categories == all_categories,
        },
        "merge_form": merge_form if merge_form is not None else (MergeForm() if may["merge"] else None),
        "responsible_agency": person.responsible_agency,
    }


@login_required
def person_detail(request: HubRequest, pk: int) -> HttpResponse:
    view = selectors.person_view(request.user, pk)
    return render(request, "referrals/persons/person_detail.html", _detail_context(request, view))


@login_required
def person_edit(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    view = selectors.person_view(actor, pk)
    person = view.person
    access.require(actor, "change", person)
    reads.note(person.pk, view.categories & set(CATEGORY_FIELDS))
    # The form works on a copy: the page header keeps the saved name while the form shows errors.
    form = PersonForm(post_data(request), instance=copy.copy(person))
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update(actor=actor, person=person, **form.person_values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("person-detail", pk=person.pk)
    return render(request, "referrals/persons/person_form.html", {"person": person, "form": form})


@login_required
def person_household(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    person = selectors.person_view(actor, pk).person
    access.require(actor, "change", person)
    form = HouseholdForm(
        post_data(request),
        households=selectors.visible_households(actor),
        initial={"household": person.household_id},
    )
    if request.method == "POST" and form.is_valid():
        try:
            # A new household without its first member would be an orphan: both or nothing.
            with transaction.atomic():
                household = form.cleaned_data["household"] or services.household_create(
                    actor=actor, name=form.cleaned_data["name"].strip()
                )
                services.person_update(actor=actor, person=person, household=household)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            message = _("%(name)s now belongs to the household %(household)s.")
            messages.success(request, message % {"name": person, "household": household})
            return redirect("person-detail", pk=person.pk)
    return render(request, "referrals/persons/household_form.html", {"person": person, "form": form})


@login_required
@require_POST
def person_merge(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    view = selectors.person_view(actor, pk)
    keep = view.person
    access.require(actor, "merge", keep)
    form = MergeForm(request.POST)
    if form.is_valid():
        duplicate = selectors.person_by_reference(actor, form.cleaned_data["reference"])
        if duplicate is None:
            form.add_error("reference", _("You can see no person with this case reference."))
        else:
            try:
                services.person_merge(actor=actor, keep=keep, duplicate=duplicate)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(duplicate)s has been merged into this record.") % {"duplicate": duplicate.reference},
                )
                return redirect("person-detail", pk=keep.pk)
    context = _detail_context(request, view, merge_form=form)
    return render(request, "referrals/persons/person_detail.html", context, status=400)


# Consents ---------------------------------------------------------------------------------


@login_required
def consent_create(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    person = selectors.person_view(actor, pk).person
    access.require(actor, "record_consent", person)
    form = ConsentForm(
        post_data(request),
        request.FILES if request.method == "POST" else None,
        agencies=selectors.partner_agencies(actor),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.consent_record(
                actor=actor,
                person=person,
                categories=data["categories"],
                recipients=data["recipients"],
                purpose=data["purpose"],
                text_version=data["text_version"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
                document=data["document"] or None,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The consent has been recorded."))
            return redirect(reverse("person-detail", args=[person.pk]) + "#consents")
    return render(request, "referrals/persons/consent_form.html", {"person": person, "form": form})


@login_required
@require_POST
def consent_revoke(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    consent = access.get_visible_or_404(actor, Consent, pk=pk)
    if consent.revoked_at is not None:
        messages.info(request, _("This consent has been revoked already."))
        return done(request, _back_to_person(actor, consent.person_id, "#consents"))
    return post_step(
        request,
        lambda: services.consent_revoke(actor=actor, consent=consent),
        success=_("The consent has been revoked; the shares resting on it have ended."),
        url=_back_to_person(actor, consent.person_id, "#consents"),
    )


@login_required
def consent_document(request: HubRequest, pk: int) -> FileResponse:
    """The signed consent, only for those who may see the consent, never inline in the browser."""
    consent = access.get_visible_or_404(request.user, Consent, pk=pk)
    if not consent.document:
        raise Http404
    # The signed form names the person and what they agreed to.
    reads.note(consent.person_id, {Category.IDENTITY, reads.CONSENTS})
    try:
        handle = consent.document.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=True, filename=f"consent-{consent.pk}.pdf", content_type="application/pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# Shares -----------------------------------------------------------------------------------


@login_required
def share_create(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    person = selectors.person_view(actor, pk).person
    access.require(actor, "share", person)
    reads.note(person.pk, {reads.CONSENTS})
    form = ShareForm(
        post_data(request),
        agencies=selectors.partner_agencies(actor),
        consents=selectors.valid_consents(actor, person),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            share = services.share_create(
                actor=actor,
                person=person,
                to_agency=data["to_agency"],
                categories=data["categories"],
                legal_basis=data["legal_basis"],
                consent=data["consent"],
                basis_reason=data["basis_reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("%(agency)s can now see the shared data.") % {"agency": share.to_agency.display_name}
            )
            return redirect(reverse("person-detail", args=[person.pk]) + "#shares")
    return render(request, "referrals/persons/share_form.html", {"person": person, "form": form})


@login_required
@require_POST
def share_end(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    share = access.get_visible_or_404(actor, Share, pk=pk)
    if share.ended_at is not None:
        messages.info(request, _("This share has ended already."))
    else:
        share = services.share_end(actor=actor, share=share)
        messages.success(request, _("%(agency)s no longer sees these data.") % {"agency": share.to_agency.display_name})
    return done(request, _back_to_person(actor, share.person_id, "#shares"))


def _back_to_person(actor: Any, person_id: int, anchor: str = "") -> str:
    """Back to the person's page, if the actor still sees the person after the change."""
    if access.visible(actor, Person).filter(pk=person_id).exists():
        return reverse("person-detail", args=[person_id]) + anchor
    return reverse("person-list")
