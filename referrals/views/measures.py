"""HTML views of the measure catalogue and of enrolments.

The catalogue holds no personal data and every member sees it. Who is enrolled is
personal data: the provider sees the enrolments of its offers with the person's case
reference, and a name only where the provider may see the person anyway (a share or
its own file); the other agencies see the enrolments of the persons they work with.
"""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub import access
from hub.views import HubRequest
from hub.web import apply_errors, list_response, paginate, post_data, post_step, tune_filters
from referrals import selectors, services
from referrals.filters import MeasureFilterSet
from referrals.forms.measures import EnrolForm, MeasureForm
from referrals.models import EnrollmentStatus, Measure
from referrals.views.persons import agency_select


@login_required
def measure_list(request: HubRequest) -> HttpResponse:
    actor = request.user
    filterset = tune_filters(
        MeasureFilterSet(request.GET, queryset=selectors.measure_catalogue(actor), request=request),
        {
            "free_seats": (_("With free seats"), _("Fully booked")),
            "is_open": (_("Open for enrolment"), _("Closed for enrolment")),
        },
    )
    agency_select(filterset, "provider", selectors.measure_providers(actor))
    starts_after = filterset.form.fields.get("starts_after")
    if starts_after is not None:
        starts_after.widget.input_type = "date"
    context = {
        "filter": filterset,
        "page_obj": paginate(request, filterset.qs),
        "may_create": access.can(actor, "create", Measure),
    }
    return list_response(request, "referrals/measures/measure_list.html", context)


@login_required
def measure_detail(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    measure = selectors.measure_detail(actor, pk)
    rows = selectors.measure_enrollments(actor, measure)
    context = {
        "measure": measure,
        "enrolled": [row for row in rows if row.enrollment.status == EnrollmentStatus.ENROLLED],
        "waitlisted": [row for row in rows if row.enrollment.status == EnrollmentStatus.WAITLISTED],
        "ended": [
            row for row in rows if row.enrollment.status not in {EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED}
        ],
        "may_change": access.can(actor, "change", measure),
        "may_enrol": measure.is_open and selectors.enrollable_persons(actor, measure).exists(),
    }
    return render(request, "referrals/measures/measure_detail.html", context)


@login_required
def measure_create(request: HubRequest) -> HttpResponse:
    actor = request.user
    access.require(actor, "create", Measure)
    form = MeasureForm(post_data(request), providers=selectors.measure_provider_agencies(actor))
    if request.method == "POST" and form.is_valid():
        try:
            measure = services.measure_create(actor=actor, provider=form.cleaned_data["provider"], **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(title)s is in the catalogue now.") % {"title": measure.title})
            return redirect("measure-detail", pk=measure.pk)
    return render(request, "referrals/measures/measure_form.html", {"form": form, "measure": None})


@login_required
def measure_edit(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    measure = selectors.measure_detail(actor, pk)
    access.require(actor, "change", measure)
    form = MeasureForm(post_data(request), instance=copy.copy(measure))
    if request.method == "POST" and form.is_valid():
        try:
            services.measure_update(actor=actor, measure=measure, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The measure has been saved."))
            return redirect("measure-detail", pk=measure.pk)
    return render(request, "referrals/measures/measure_form.html", {"form": form, "measure": measure})


@login_required
def measure_enrol(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    measure = selectors.measure_detail(actor, pk)
    persons = selectors.enrollable_persons(actor, measure)
    form = EnrolForm(post_data(request), persons=persons)
    if request.method == "POST" and form.is_valid():
        try:
            enrollment = services.enrollment_request(actor=actor, measure=measure, person=form.cleaned_data["person"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if enrollment.status == EnrollmentStatus.ENROLLED:
                messages.success(request, _("%(person)s got a seat.") % {"person": enrollment.person})
            else:
                messages.info(
                    request,
                    _("All seats are taken: %(person)s is on the waiting list, place %(position)d.")
                    % {"person": enrollment.person, "position": enrollment.waitlist_position},
                )
            return redirect("measure-detail", pk=measure.pk)
    return render(request, "referrals/measures/enrol_form.html", {"measure": measure, "form": form})


@login_required
@require_POST
def enrollment_cancel(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    enrollment = selectors.enrollment_detail(actor, pk)
    return post_step(
        request,
        lambda: services.enrollment_cancel(actor=actor, enrollment=enrollment),
        success=_("The enrolment has been cancelled."),
        url=reverse("measure-detail", args=[enrollment.measure_id]),
    )


@login_required
@require_POST
def enrollment_complete(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    enrollment = selectors.enrollment_detail(actor, pk)
    return post_step(
        request,
        lambda: services.enrollment_complete(actor=actor, enrollment=enrollment),
        success=_("The measure is recorded as completed."),
        url=reverse("measure-detail", args=[enrollment.measure_id]),
    )
