"""Helpers shared by the server-rendered views of every app: lists, htmx answers, service errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django_filters import FilterSet
from django_htmx.http import HttpResponseClientRedirect

from hub.views import HubRequest

PAGE_SIZE = 25


def paginate(
    request: HttpRequest,
    queryset: QuerySet[Any],
    per_page: int = PAGE_SIZE,
    paginator: type[Paginator] = Paginator,
) -> Page[Any]:
    return paginator(queryset, per_page).get_page(request.GET.get("page"))


def list_response(request: HubRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """The whole page, or only its ``results`` partial when htmx re-fetches the list."""
    if request.htmx and not request.htmx.history_restore_request:
        template = f"{template}#results"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def done(request: HubRequest, url: str) -> HttpResponse:
    """After a POST: a normal redirect, or for htmx a full page load, so that messages and state are fresh."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def post_step(request: HubRequest, step: Callable[[], object], *, success: str, url: str) -> HttpResponse:
    """A one-click step (a POST without a form): run the service, say how it went, go back to ``url``.

    A refusal of the service (ValidationError) becomes an error message on the page the user came
    from; access errors propagate as 404 or 403 like everywhere else.
    """
    try:
        step()
    except ValidationError as exc:
        messages.error(request, messages_of(exc))
    else:
        messages.success(request, success)
    return done(request, url)


def form_page(
    request: HubRequest,
    form: forms.Form,
    perform: Callable[[dict[str, Any]], Any],
    *,
    template: str,
    success: str | Callable[[Any], str],
    next_url: Callable[[Any], str],
    context: dict[str, Any],
) -> HttpResponse:
    """A page with one form: on a valid POST the service runs and the user goes on to
    ``next_url(result)``; a refusal of the service (ValidationError) lands on the form."""
    if request.method == "POST" and form.is_valid():
        try:
            result = perform(form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, success(result) if callable(success) else success)
            return redirect(next_url(result))
    return render(request, template, {"form": form, **context})


def tune_filters(filterset: FilterSet, yes_no: dict[str, tuple[str, str]] | None = None) -> FilterSet:
    """Make the shared FilterSet's form read well: a search box, and "all / yes / no" in words."""
    fields = filterset.form.fields
    if "q" in fields:
        fields["q"].widget.input_type = "search"
    for field in fields.values():
        # django-filter's choice fields offer "---------" for "no filter"; say it in words.
        if getattr(field, "empty_label", None) is not None:
            field.empty_label = _("All")
            field.widget.choices = field.choices
    for name, (yes, no) in (yes_no or {}).items():
        if name in fields:
            fields[name].widget = forms.Select(choices=[("", _("All")), ("true", yes), ("false", no)])
    return filterset


def post_data(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def messages_of(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def apply_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the field it names if the form has it, else on top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        target = field if field in form.fields else None
        if field == NON_FIELD_ERRORS:
            target = None
        form.add_error(target, errors)
