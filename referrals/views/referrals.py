"""HTML views of referrals: the caseworker's inbox, the list, a new referral, its page and its steps.

Every step goes through ``referrals.services.referral_transition`` (or ``referral_redirect``);
the buttons on a page are exactly ``services.allowed_actions``. A refused step becomes a
message or a form error, never a server error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from agencies.models import Agency
from hub import access
from hub.views import HubRequest
from hub.web import apply_errors, list_response, paginate, post_data, post_step, tune_filters
from privacy import reads
from referrals import selectors, services
from referrals.filters import ReferralFilterSet
from referrals.forms.referrals import CompleteForm, NoteForm, RedirectForm, ReferralForm
from referrals.models import Category, Measure, Outcome, Referral, ReferralStatus
from referrals.views.persons import agency_select, category_labels

INBOX_PAGE_SIZE = 20

# Steps that need no input: a button each. The others have a small form.
SIMPLE_STEPS = ("send", "receive", "accept", "waitlist", "start", "withdraw")
STEP_LABELS = {
    "send": gettext_lazy("Send"),
    "receive": gettext_lazy("Confirm receipt"),
    "accept": gettext_lazy("Accept"),
    "waitlist": gettext_lazy("Put on the waiting list"),
    "start": gettext_lazy("Start"),
    "withdraw": gettext_lazy("Withdraw"),
    "decline": gettext_lazy("Decline"),
    "fail": gettext_lazy("Report failure"),
    "complete": gettext_lazy("Complete"),
    "redirect": gettext_lazy("Refer elsewhere"),
}
STEP_DONE = {
    "send": gettext_lazy("The referral has been sent."),
    "receive": gettext_lazy("Receipt confirmed. The sending agency sees it."),
    "accept": gettext_lazy("The referral has been accepted."),
    "waitlist": gettext_lazy("The person is on the waiting list."),
    "start": gettext_lazy("The work has started."),
    "withdraw": gettext_lazy("The referral has been withdrawn."),
    "decline": gettext_lazy("The referral has been declined. The sending agency learns the reason."),
    "fail": gettext_lazy("The referral is closed as failed."),
    "complete": gettext_lazy("The referral is completed. The sending agency sees the outcome."),
}


@dataclass(frozen=True)
class ReferralRow:
    """A referral in a list, with the person's name only where the actor may see the person."""

    referral: Referral
    person_visible: bool
    overdue: bool
    due_today: bool


def referral_rows(actor: Any, referrals: Iterable[Referral]) -> list[ReferralRow]:
    referrals = list(referrals)
    visible = selectors.visible_person_ids(actor, {referral.person_id for referral in referrals})
    return _rows(referrals, visible)


def _rows(referrals: list[Referral], visible_persons: set[int]) -> list[ReferralRow]:
    # A row shows the referral, and the person's name where the actor may see the person.
    reads.note([referral.person_id for referral in referrals], {reads.REFERRALS})
    reads.note({referral.person_id for referral in referrals} & visible_persons, {Category.IDENTITY})
    today = timezone.localdate()
    open_for_answer = services.OPEN_FOR_ANSWER
    return [
        ReferralRow(
            referral=referral,
            person_visible=referral.person_id in visible_persons,
            overdue=referral.status in open_for_answer and referral.answer_due_on < today,
            due_today=referral.status in open_for_answer and referral.answer_due_on == today,
        )
        for referral in referrals
    ]


# The inbox --------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxSection:
    key: str
    title: str
    intro: str
    empty: str
    page: Page[Referral]
    rows: list[ReferralRow]
    previous_url: str
    next_url: str

    @property
    def show_outcome(self) -> bool:
        return self.key == "closed"


def _section_page(request: HubRequest, key: str, queryset: QuerySet[Referral]) -> tuple[Page[Referral], str, str]:
    """One page of a section, each section paged by its own parameter so the others stay put."""
    page = Paginator(queryset, INBOX_PAGE_SIZE).get_page(request.GET.get(key))

    def url(number: int) -> str:
        params = request.GET.copy()
        params[key] = str(number)
        return f"{request.path}?{params.urlencode()}#{key}"

    previous_url = url(page.previous_page_number()) if page.has_previous() else ""
    next_url = url(page.next_page_number()) if page.has_next() else ""
    return page, previous_url, next_url


@login_required
def referral_inbox(request: HubRequest) -> HttpResponse:
    actor = request.user
    specs: list[tuple[str, str, str, str, Callable[[Any], QuerySet[Referral]]]] = [
        (
            "incoming",
            _("To answer"),
            _("Referrals sent to your agencies. Confirm receipt, then accept or decline."),
            _("Nothing to answer."),
            selectors.inbox_incoming,
        ),
        (
            "outgoing",
            _("Awaiting an answer"),
            _("Referrals your agencies sent that the receiving agency has not answered yet."),
            _("No referral awaits an answer."),
            selectors.inbox_outgoing,
        ),
        (
            "due",
            _("Due and overdue"),
            _("Open referrals, incoming or outgoing, whose answer is due today or overdue."),
            _("Nothing is due."),
            selectors.inbox_due,
        ),
        (
            "closed",
            _("Recently closed"),
            _("Referrals your agencies sent that closed in the last %(days)s days, with their outcome.")
            % {"days": selectors.RECENTLY_CLOSED_DAYS},
            _("No referral closed lately."),
            selectors.inbox_recently_closed,
        ),
    ]
    pages = [(spec, *_section_page(request, spec[0], spec[4](actor))) for spec in specs]
    # One query for all sections: which persons the actor may name.
    person_ids = {referral.person_id for _spec, page, _prev, _next in pages for referral in page.object_list}
    visible = selectors.visible_person_ids(actor, person_ids)
    sections = [
        InboxSection(
            key=key,
            title=title,
            intro=intro,
            empty=empty,
            page=page,
            rows=_rows(list(page.object_list), visible),
            previous_url=previous_url,
            next_url=next_url,
        )
        for (key, title, intro, empty, _selector), page, previous_url, next_url in pages
    ]
    return render(request, "referrals/referrals/inbox.html", {"sections": sections})


# The list ---------------------------------------------------------------------------------


@login_required
def referral_list(request: HubRequest) -> HttpResponse:
    actor = request.user
    queryset = selectors.referral_list(actor).order_by("-created_at")
    filterset = tune_filters(
        ReferralFilterSet(request.GET, queryset=queryset, request=request),
        {"overdue": (_("Overdue"), _("Not overdue"))},
    )
    agency_select(filterset, "agency", access.visible(actor, Agency).order_by("name"))
    page = paginate(request, filterset.qs)
    context = {"filter": filterset, "page_obj": page, "rows": referral_rows(actor, page.object_list)}
    return list_response(request, "referrals/referrals/referral_list.html", context)


# A new referral ---------------------------------------------------------------------------


@login_required
def referral_create(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    person = selectors.person_view(actor, pk).person
    access.require(actor, "refer", person)
    reads.note(person.pk, {reads.CONSENTS})
    form = ReferralForm(
        post_data(request),
        agencies=selectors.partner_agencies(actor),
        consents=selectors.valid_consents(actor, person),
        measures=access.visible(actor, Measure).filter(is_open=True).select_related("provider").order_by("title"),
        initial={"categories": ["identity"]},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        send = "save_draft" not in request.POST
        try:
            referral = services.referral_create(
                actor=actor,
                person=person,
                to_agency=data["to_agency"],
                measure=data["measure"],
                reason=data["reason"],
                urgency=data["urgency"],
                categories=data["categories"],
                legal_basis=data["legal_basis"],
                consent=data["consent"],
                basis_reason=data["basis_reason"],
                answer_due_on=data["answer_due_on"],
                send=send,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if send:
                message = _("The referral has been sent to %(agency)s.")
            else:
                message = _("The referral to %(agency)s has been saved as a draft.")
            messages.success(request, message % {"agency": referral.to_agency.display_name})
            return redirect("referral-detail", pk=referral.pk)
    return render(request, "referrals/referrals/referral_form.html", {"person": person, "form": form})


# A referral's page and its steps ----------------------------------------------------------


def _step_forms(actor: Any, referral: Referral, actions: list[str]) -> dict[str, forms.Form]:
    """The small forms of the steps that need input, for the steps the actor may take now."""
    step_forms: dict[str, forms.Form] = {}
    if "decline" in actions:
        step_forms["decline"] = NoteForm(prefix="decline")
    if "fail" in actions:
        step_forms["fail"] = NoteForm(prefix="fail")
    if "complete" in actions:
        step_forms["complete"] = CompleteForm(prefix="complete")
    if "redirect" in actions:
        step_forms["redirect"] = RedirectForm(prefix="redirect", agencies=_redirect_agencies(actor, referral))
    return step_forms


def _redirect_agencies(actor: Any, referral: Referral) -> QuerySet[Agency]:
    return selectors.partner_agencies(actor).exclude(pk=referral.to_agency_id)


@login_required
def referral_detail(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    referral = selectors.referral_detail(actor, pk)
    actions = services.allowed_actions(actor, referral)
    person_visible = bool(selectors.visible_person_ids(actor, {referral.person_id}))
    if person_visible:
        reads.note(referral.person_id, {Category.IDENTITY})
    context = {
        "referral": referral,
        "person_visible": person_visible,
        "categories": category_labels(referral.categories),
        "history": selectors.referral_history(referral),
        "simple_steps": [(action, STEP_LABELS[action]) for action in SIMPLE_STEPS if action in actions],
        "step_forms": _step_forms(actor, referral, actions),
        "overdue": referral.status in services.OPEN_FOR_ANSWER and referral.answer_due_on < timezone.localdate(),
        "is_receiver": referral.to_agency_id in access.agency_ids(actor),
        "not_successful": referral.outcome == Outcome.NOT_SUCCESSFUL,
    }
    return render(request, "referrals/referrals/referral_detail.html", context)


@login_required
@require_POST
def referral_step(request: HubRequest, pk: int, action: str) -> HttpResponse:
    """The steps that need no input: one POST each."""
    if action not in SIMPLE_STEPS:
        raise Http404
    actor = request.user
    referral = selectors.referral_detail(actor, pk)
    return post_step(
        request,
        lambda: services.referral_transition(actor=actor, referral=referral, action=action),
        success=str(STEP_DONE[action]),
        url=reverse("referral-detail", args=[referral.pk]),
    )


def _step_page(
    request: HubRequest,
    pk: int,
    action: str,
    make_form: Callable[[Any, Referral], forms.Form],
    perform: Callable[[Any, Referral, dict[str, Any]], Referral],
) -> HttpResponse:
    """A step with input: its form page, which the referral page also embeds."""
    actor = request.user
    referral = selectors.referral_detail(actor, pk)
    access.require(actor, action, referral)
    if action not in services.allowed_actions(actor, referral):
        messages.info(
            request,
            _("A referral that is %(status)s cannot take this step.")
            % {"status": ReferralStatus(referral.status).label},
        )
        return redirect("referral-detail", pk=referral.pk)
    form = make_form(post_data(request), referral)
    if request.method == "POST" and form.is_valid():
        try:
            result = perform(actor, referral, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            done_message = STEP_DONE.get(action)
            if done_message is None:
                messages.success(
                    request,
                    _("A new referral went to %(agency)s.") % {"agency": result.to_agency.display_name},
                )
            else:
                messages.success(request, str(done_message))
            return redirect("referral-detail", pk=result.pk)
    person_visible = bool(selectors.visible_person_ids(actor, {referral.person_id}))
    if person_visible:
        reads.note(referral.person_id, {Category.IDENTITY})
    context = {
        "referral": referral,
        "person_visible": person_visible,
        "action": action,
        "title": STEP_LABELS[action],
        "form": form,
    }
    return render(request, "referrals/referrals/step_form.html", context)


@login_required
def referral_decline(request: HubRequest, pk: int) -> HttpResponse:
    return _step_page(
        request,
        pk,
        "decline",
        lambda data, referral: NoteForm(data, prefix="decline"),
        lambda actor, referral, data: services.referral_transition(
            actor=actor, referral=referral, action="decline", note=data["note"]
        ),
    )


@login_required
def referral_fail(request: HubRequest, pk: int) -> HttpResponse:
    return _step_page(
        request,
        pk,
        "fail",
        lambda data, referral: NoteForm(data, prefix="fail"),
        lambda actor, referral, data: services.referral_transition(
            actor=actor, referral=referral, action="fail", note=data["note"]
        ),
    )


@login_required
def referral_complete(request: HubRequest, pk: int) -> HttpResponse:
    return _step_page(
        request,
        pk,
        "complete",
        lambda data, referral: CompleteForm(data, prefix="complete"),
        lambda actor, referral, data: services.referral_transition(
            actor=actor,
            referral=referral,
            action="complete",
            outcome=data["outcome"],
            outcome_reason=data["outcome_reason"],
            note=data["note"],
        ),
    )


@login_required
def referral_redirect(request: HubRequest, pk: int) -> HttpResponse:
    return _step_page(
        request,
        pk,
        "redirect",
        lambda data, referral: RedirectForm(
            data, prefix="redirect", agencies=_redirect_agencies(request.user, referral)
        ),
        lambda actor, referral, data: services.referral_redirect(
            actor=actor, referral=referral, to_agency=data["to_agency"], note=data["note"]
        ),
    )
