"""HTML views of first profiling, integration plans, transfers of responsibility and recognition.

Views read through ``referrals.selectors`` and ``hub.access`` and write only through
``referrals.services``. A page about a part of a person answers 404 to an actor whose
shares do not cover that part's data category, as if there were nothing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub import access
from hub.views import HubRequest
from hub.web import apply_errors, list_response, paginate, post_data, post_step, tune_filters
from privacy import reads
from referrals import selectors, services
from referrals.filters import PlanFilterSet, TransferFilterSet
from referrals.forms.plans import (
    CHECKLIST_LABELS,
    PlanAgreeForm,
    PlanForm,
    PlanStepForm,
    PlanStepProgressForm,
    ProfileForms,
    RecognitionForm,
    TransferCompleteForm,
    TransferProposeForm,
)
from referrals.models import (
    Category,
    Person,
    Plan,
    PlanStatus,
    PlanStep,
    RecognitionProcedure,
    ResponsibilityTransfer,
    StepStatus,
    TransferStatus,
)
from referrals.services import PLAN_FIELDS, RECOGNITION_FIELDS, STEP_FIELDS, TRANSFER_CHECKLIST

PLAN_ACTIONS = ("change", "add_step", "agree", "close")
# How many entries the overview lists of the plan page show before "and more".
OVERVIEW_LIMIT = 20


def _person(actor: Any, pk: int, *categories: str) -> Person:
    """The person, if the actor may see them and, when given, one of ``categories``; else 404."""
    view = selectors.person_view(actor, pk)
    if categories and not view.categories.intersection(categories):
        raise Http404
    return view.person


# First profiling --------------------------------------------------------------------------


@login_required
def person_profile(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    person = _person(actor, pk, *access.PROFILE_CATEGORIES)
    versions = selectors.profile_versions(actor, person)
    context = {
        "person": person,
        "current": versions[0] if versions else None,
        "versions": versions,
        "may_create": access.can(actor, "profile", person),
    }
    return render(request, "referrals/plans/profile.html", context)


@login_required
def profile_detail(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    view = selectors.profile_detail(actor, pk)
    return render(request, "referrals/plans/profile_version.html", {"person": view.profile.person, "view": view})


@login_required
def profile_create(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    person = _person(actor, pk)
    access.require(actor, "profile", person)
    versions = selectors.profile_versions(actor, person)
    # A new version starts from the current one: the holder sees every part of it.
    initial = dict(versions[0].fields) if versions else {}
    forms = ProfileForms(post_data(request), initial=initial)
    if request.method == "POST" and forms.is_valid():
        try:
            profile = services.profile_create(actor=actor, person=person, **forms.values())
        except ValidationError as exc:
            apply_errors(forms.text, exc)
        else:
            messages.success(
                request, _("Version %(version)d of the profile has been saved.") % {"version": profile.version}
            )
            return redirect("person-profile", pk=person.pk)
    context = {"person": person, "forms": forms, "form": forms.text, "current": versions[0] if versions else None}
    return render(request, "referrals/plans/profile_form.html", context)


# Plans ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRow:
    plan: Plan
    progress: selectors.PlanProgress


@login_required
def plan_list(request: HubRequest) -> HttpResponse:
    actor = request.user
    filterset = tune_filters(PlanFilterSet(request.GET, queryset=selectors.plan_list(actor), request=request))
    filterset.form.fields.pop("person", None)
    page = paginate(request, filterset.qs)
    due_for_review = list(selectors.plans_due_for_review(actor)[:OVERVIEW_LIMIT])
    late_steps = list(selectors.late_steps(actor)[:OVERVIEW_LIMIT])
    transfers_to_confirm = list(
        selectors.transfer_list(actor).filter(
            to_agency_id__in=access.agency_ids(actor, *access.CASE_ROLES), status=TransferStatus.PROPOSED
        )[:OVERVIEW_LIMIT]
    )
    # Plans and late steps are listed by the person's name; transfers by case reference.
    named = [plan.person_id for plan in [*page.object_list, *due_for_review]]
    reads.note([*named, *(step.plan.person_id for step in late_steps)], {Category.IDENTITY, Category.PLAN})
    reads.note([transfer.person_id for transfer in transfers_to_confirm], {reads.TRANSFERS})
    context = {
        "filter": filterset,
        "page_obj": page,
        "rows": [PlanRow(plan, selectors.plan_progress(plan)) for plan in page.object_list],
        "due_for_review": due_for_review,
        "late_steps": late_steps,
        "transfers_to_confirm": transfers_to_confirm,
        "overview_limit": OVERVIEW_LIMIT,
        "today": timezone.localdate(),
        "review_days": selectors.REVIEW_WITHIN_DAYS,
    }
    return list_response(request, "referrals/plans/plan_list.html", context)


@login_required
def person_plans(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    person = _person(actor, pk, Category.PLAN)
    plans = selectors.person_plans(actor, person)
    context = {
        "person": person,
        "rows": [PlanRow(plan, selectors.plan_progress(plan)) for plan in plans],
        "may_create": access.can(actor, "plan", person),
    }
    return render(request, "referrals/plans/person_plans.html", context)


@login_required
def plan_create(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    person = _person(actor, pk)
    access.require(actor, "plan", person)
    form = PlanForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(actor=actor, person=person, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The plan has been opened. Add its steps."))
            return redirect("plan-detail", pk=plan.pk)
    return render(request, "referrals/plans/plan_form.html", {"person": person, "form": form, "plan": None})


@dataclass(frozen=True)
class StepRow:
    step: PlanStep
    is_late: bool
    is_next: bool
    may_change: bool


@login_required
def plan_detail(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    plan = selectors.plan_detail(actor, pk)
    progress = selectors.plan_progress(plan)
    steps = sorted(plan.steps.all(), key=lambda step: (step.position, step.pk))
    is_open = plan.status != PlanStatus.CLOSED
    rows = []
    for step in steps:
        step.plan = plan  # the policy reads the plan's person; spare a query per step
        rows.append(
            StepRow(
                step=step,
                is_late=progress.is_late(step),
                is_next=progress.next == step,
                may_change=is_open and access.can(actor, "change", step),
            )
        )
    context = {
        "plan": plan,
        "person": plan.person,
        "rows": rows,
        "progress": progress,
        "today": timezone.localdate(),
        "may": {
            action: is_open and access.can(actor, action, plan) for action in ("change", "add_step", "agree", "close")
        },
    }
    return render(request, "referrals/plans/plan_detail.html", context)


@login_required
def plan_edit(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    plan = selectors.plan_detail(actor, pk)
    access.require(actor, "change", plan)
    form = PlanForm(post_data(request), instance=copy.copy(plan))
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_update(actor=actor, plan=plan, **{field: form.cleaned_data[field] for field in PLAN_FIELDS})
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The plan has been saved."))
            return redirect("plan-detail", pk=plan.pk)
    return render(request, "referrals/plans/plan_form.html", {"person": plan.person, "form": form, "plan": plan})


@login_required
def plan_agree(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    plan = selectors.plan_detail(actor, pk)
    access.require(actor, "agree", plan)
    form = PlanAgreeForm(post_data(request), plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_agree(actor=actor, plan=plan, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The agreement has been recorded."))
            return redirect("plan-detail", pk=plan.pk)
    return render(request, "referrals/plans/plan_agree.html", {"plan": plan, "person": plan.person, "form": form})


@login_required
@require_POST
def plan_close(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    plan = selectors.plan_detail(actor, pk)
    return post_step(
        request,
        lambda: services.plan_close(actor=actor, plan=plan),
        success=_("The plan has been closed."),
        url=reverse("plan-detail", args=[plan.pk]),
    )


@login_required
def plan_print(request: HubRequest, pk: int) -> HttpResponse:
    """The agreement in plain language, to print and sign with the person."""
    actor = request.user
    plan = selectors.plan_detail(actor, pk)
    steps = sorted(plan.steps.all(), key=lambda step: (step.position, step.pk))
    context = {"plan": plan, "person": plan.person, "steps": [s for s in steps if s.status != StepStatus.CANCELLED]}
    return render(request, "referrals/plans/plan_print.html", context)


@login_required
def plan_step_add(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    plan = selectors.plan_detail(actor, pk)
    access.require(actor, "add_step", plan)
    form = PlanStepForm(post_data(request), agencies=selectors.working_agencies(actor))
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_step_add(actor=actor, plan=plan, **{field: form.cleaned_data[field] for field in STEP_FIELDS})
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The step has been added."))
            return redirect("plan-detail", pk=plan.pk)
    return render(request, "referrals/plans/step_form.html", {"plan": plan, "person": plan.person, "form": form})


@login_required
def plan_step_edit(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    step = selectors.plan_step_detail(actor, pk)
    access.require(actor, "change", step)
    plan = step.plan
    form: PlanStepForm | PlanStepProgressForm
    if access.holds(actor, plan.person, *access.CASE_ROLES):
        form = PlanStepForm(post_data(request), instance=copy.copy(step), agencies=selectors.working_agencies(actor))
    else:
        # The agency owning the step reports its progress; the plan stays with the file holders.
        form = PlanStepProgressForm(post_data(request), instance=copy.copy(step))
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_step_update(
                actor=actor,
                step=step,
                **{field: form.cleaned_data[field] for field in STEP_FIELDS if field in form.fields},
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The step has been saved."))
            return redirect("plan-detail", pk=plan.pk)
    context = {"plan": plan, "person": plan.person, "form": form, "step": step}
    return render(request, "referrals/plans/step_form.html", context)


# Transfers of responsibility --------------------------------------------------------------


def _transfer_person_names(actor: Any, transfers: list[ResponsibilityTransfer]) -> dict[int, str]:
    """Names of the persons the actor may see; the others show by their case reference only."""
    visible = selectors.visible_person_ids(actor, {transfer.person_id for transfer in transfers})
    reads.note([transfer.person_id for transfer in transfers], {reads.TRANSFERS})
    reads.note(visible, {Category.IDENTITY})
    return {transfer.pk: str(transfer.person) for transfer in transfers if transfer.person_id in visible}


@login_required
def transfer_list(request: HubRequest) -> HttpResponse:
    actor = request.user
    filterset = tune_filters(TransferFilterSet(request.GET, queryset=selectors.transfer_list(actor), request=request))
    filterset.form.fields.pop("person", None)
    page = paginate(request, filterset.qs)
    names = _transfer_person_names(actor, list(page.object_list))
    context = {
        "filter": filterset,
        "page_obj": page,
        "rows": [(transfer, names.get(transfer.pk)) for transfer in page.object_list],
    }
    return list_response(request, "referrals/plans/transfer_list.html", context)


@login_required
def person_transfers(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    person = _person(actor, pk)
    reads.note(person.pk, {reads.TRANSFERS})
    context = {
        "person": person,
        "transfers": list(selectors.transfer_list(actor).filter(person=person)),
        "may_propose": access.can(actor, "transfer", person),
    }
    return render(request, "referrals/plans/person_transfers.html", context)


@login_required
def transfer_create(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    person = _person(actor, pk)
    access.require(actor, "transfer", person)
    agencies = selectors.working_agencies(actor).exclude(pk=person.responsible_agency_id)
    form = TransferProposeForm(post_data(request), agencies=agencies)
    if request.method == "POST" and form.is_valid():
        try:
            transfer = services.transfer_propose(actor=actor, person=person, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("The transfer to %(agency)s has been proposed; that agency completes it.")
                % {"agency": transfer.to_agency.name},
            )
            return redirect("transfer-detail", pk=transfer.pk)
    return render(request, "referrals/plans/transfer_form.html", {"person": person, "form": form})


def _checklist_rows(transfer: ResponsibilityTransfer) -> list[tuple[str, bool]]:
    checklist = transfer.checklist or {}
    return [(str(CHECKLIST_LABELS[key]), bool(checklist.get(key))) for key in TRANSFER_CHECKLIST]


@login_required
def transfer_detail(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    transfer = selectors.transfer_detail(actor, pk)
    context = {
        "transfer": transfer,
        "person_name": _transfer_person_names(actor, [transfer]).get(transfer.pk),
        "checklist": _checklist_rows(transfer),
        "may_complete": access.can(actor, "complete", transfer),
        "may_cancel": access.can(actor, "cancel", transfer),
    }
    return render(request, "referrals/plans/transfer_detail.html", context)


@login_required
def transfer_complete(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    transfer = selectors.transfer_detail(actor, pk)
    access.require(actor, "complete", transfer)
    form = TransferCompleteForm(post_data(request), checklist=transfer.checklist or {})
    if request.method == "POST" and form.is_valid():
        try:
            services.transfer_complete(actor=actor, transfer=transfer, checklist=form.checklist())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Your agency is now responsible for the person."))
            return redirect("transfer-detail", pk=transfer.pk)
    context = {
        "transfer": transfer,
        "person_name": _transfer_person_names(actor, [transfer]).get(transfer.pk),
        "form": form,
    }
    return render(request, "referrals/plans/transfer_complete.html", context)


@login_required
@require_POST
def transfer_cancel(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    transfer = selectors.transfer_detail(actor, pk)
    return post_step(
        request,
        lambda: services.transfer_cancel(actor=actor, transfer=transfer),
        success=_("The transfer has been cancelled."),
        url=reverse("transfer-detail", args=[transfer.pk]),
    )


# Recognition of foreign qualifications ----------------------------------------------------


@login_required
def person_recognitions(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    person = _person(actor, pk, Category.EDUCATION)
    reads.note(person.pk, {Category.EDUCATION})
    recognitions = list(selectors.recognition_list(actor).filter(person=person))
    context = {
        "person": person,
        "rows": [(recognition, access.can(actor, "change", recognition)) for recognition in recognitions],
        "may_create": access.can(actor, "recognition", person),
    }
    return render(request, "referrals/plans/person_recognitions.html", context)


@login_required
def recognition_create(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    person = _person(actor, pk)
    access.require(actor, "recognition", person)
    form = RecognitionForm(post_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.recognition_create(
                actor=actor, person=person, **{field: form.cleaned_data[field] for field in RECOGNITION_FIELDS}
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The recognition procedure has been recorded."))
            return redirect("person-recognitions", pk=person.pk)
    context = {"person": person, "form": form, "recognition": None}
    return render(request, "referrals/plans/recognition_form.html", context)


@login_required
def recognition_edit(request: HubRequest, pk: int) -> HttpResponse:
    actor = request.user
    recognition: RecognitionProcedure = selectors.recognition_detail(actor, pk)
    access.require(actor, "change", recognition)
    form = RecognitionForm(post_data(request), instance=copy.copy(recognition))
    if request.method == "POST" and form.is_valid():
        try:
            services.recognition_update(
                actor=actor,
                recognition=recognition,
                **{field: form.cleaned_data[field] for field in RECOGNITION_FIELDS},
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The recognition procedure has been saved."))
            return redirect("person-recognitions", pk=recognition.person_id)
    context = {"person": recognition.person, "form": form, "recognition": recognition}
    return render(request, "referrals/plans/recognition_form.html", context)
