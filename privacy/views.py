"""Pages of data protection: the data-protection officer's read-access log (with its CSV export),
retention with its preview, deletion log and legal holds, and a person's request of access.

The officer's pages answer 403 to everyone who is no data-protection officer; what they show is the
officer's own agencies' business only (``hub.access``). The read log names persons by case
reference, not by name, so these pages themselves reveal no one's file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from hub import access
from hub.exports import csv_response
from hub.views import HubRequest
from hub.web import apply_errors, list_response, paginate, post_data, post_step
from privacy import retention, selectors, services
from privacy.filters import DEFAULT_PERIOD_DAYS, ReadAccessFilterSet
from privacy.forms import LegalHoldForm
from privacy.models import LegalHold, ReadAccess
from referrals.models import Person

READ_LOG_PAGE_SIZE = 50
CSV_HEADER = (
    gettext_lazy("time"),
    gettext_lazy("staff member"),
    gettext_lazy("username"),
    gettext_lazy("agency"),
    gettext_lazy("case reference"),
    gettext_lazy("data categories"),
    gettext_lazy("purpose"),
    gettext_lazy("method"),
)


def _read_log_search(request: HubRequest) -> ReadAccessFilterSet:
    selectors.require_officer(request.user)
    return ReadAccessFilterSet(request.GET, queryset=selectors.read_log(request.user), request=request)


@login_required
@require_GET
def read_log(request: HubRequest) -> HttpResponse:
    """Who opened a person's file, or what a staff member opened: the officer's own agency only."""
    filterset = _read_log_search(request)
    searched = filterset.has_subject
    if searched:
        services.read_log_evaluated(actor=request.user, search=filterset.form.cleaned_data, output="page")
    page = paginate(request, filterset.qs if searched else ReadAccess.objects.none(), READ_LOG_PAGE_SIZE)
    context = {
        "filter": filterset,
        "searched": searched,
        "page_obj": page,
        "period_days": DEFAULT_PERIOD_DAYS,
        "csv_query": request.GET.urlencode(),
        "section": "privacy",
    }
    return list_response(request, "privacy/read_log.html", context)


def _csv_rows(queryset: Any) -> Iterator[list[Any]]:
    for read in queryset.iterator(chunk_size=2000):
        user = read.user
        yield [
            timezone.localtime(read.at).isoformat(timespec="seconds"),
            (user.get_full_name() if user is not None else "") or "",
            user.get_username() if user is not None else "",
            read.agency.name if read.agency is not None else "",
            read.person_reference or "",
            ", ".join(selectors.category_labels(read.categories)),
            read.purpose,
            read.method,
        ]


@login_required
@require_GET
def read_log_csv(request: HubRequest) -> HttpResponseBase:
    """The same search as a CSV file, streamed; without a person or staff member to search for, 400."""
    filterset = _read_log_search(request)
    if not filterset.has_subject:
        return HttpResponse(
            _("Name a case reference or a staff member to export."), status=400, content_type="text/plain"
        )
    services.read_log_evaluated(actor=request.user, search=filterset.form.cleaned_data, output="csv")
    filename = f"read-log-{timezone.localdate():%Y-%m-%d}.csv"
    return csv_response(filename, CSV_HEADER, _csv_rows(filterset.qs))


@login_required
@require_GET
def retention_overview(request: HubRequest) -> HttpResponse:
    """The retention rules with what each would remove now (a dry run), the deletion log and the holds."""
    actor = request.user
    selectors.require_officer(actor)
    context = {
        "previews": retention.preview(),
        "page_obj": paginate(request, selectors.deletion_log(actor), READ_LOG_PAGE_SIZE),
        "holds": [(hold, access.can(actor, "lift_hold", hold)) for hold in selectors.legal_holds(actor)],
        "hold_form": LegalHoldForm(),
        "section": "privacy",
    }
    return list_response(request, "privacy/retention.html", context)


@login_required
def hold_create(request: HubRequest) -> HttpResponse:
    actor = request.user
    selectors.require_officer(actor)
    form = LegalHoldForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        person = access.visible(actor, Person).filter(reference__iexact=form.cleaned_data["reference"].strip()).first()
        if person is None or not access.can(actor, "legal_hold", person):
            form.add_error("reference", _("Your agency sees no person with this case reference."))
        else:
            try:
                services.legal_hold_place(actor=actor, person=person, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The hold is placed: retention leaves %(reference)s alone.") % {"reference": person.reference},
                )
                return redirect(reverse("privacy-retention") + "#holds")
    return render(request, "privacy/hold_form.html", {"form": form, "section": "privacy"})


@login_required
@require_POST
def hold_lift(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    hold = access.get_visible_or_404(actor, LegalHold, pk=pk)
    return post_step(
        request,
        lambda: services.legal_hold_lift(actor=actor, hold=hold),
        success=_("The hold is lifted."),
        url=reverse("privacy-retention") + "#holds",
    )


@login_required
@require_GET
def subject_access_page(request: HubRequest, pk: int) -> HttpResponse:
    """Everything your agency may see of the person, to print and hand over (art. 15 GDPR)."""
    actor = request.user
    person = access.get_visible_or_404(actor, Person, pk=pk)
    answer = services.subject_access_answer(actor=actor, person=person, output="page")
    return render(request, "privacy/subject_access.html", {"answer": answer, "person": person})


@login_required
@require_GET
def subject_access_json(request: HubRequest, pk: int) -> HttpResponse:
    """The same answer as a JSON file to download (art. 15 (3) GDPR: a copy in a common electronic form)."""
    actor = request.user
    person = access.get_visible_or_404(actor, Person, pk=pk)
    answer = services.subject_access_answer(actor=actor, person=person, output="json")
    body = json.dumps(answer.as_json(), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="access-{person.reference}.json"'
    response["Cache-Control"] = "private, no-store"
    return response
