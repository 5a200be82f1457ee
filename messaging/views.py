"""Pages of the user's own notifications and notification preferences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.views import HubRequest
from hub.web import apply_errors, done, list_response, paginate, post_data
from messaging import selectors, services
from messaging.forms import PreferenceForm


@login_required
def notification_list(request: HubRequest) -> HttpResponse:
    page = paginate(request, selectors.notifications_for(request.user))
    return list_response(request, "messaging/notification_list.html", {"page_obj": page, "section": "notifications"})


@login_required
@require_POST
def notification_read(request: HubRequest, pk: int) -> HttpResponse:
    notification = selectors.notification_or_404(request.user, pk)
    services.notification_mark_read(actor=request.user, notification=notification)
    # "Open" marks read and follows the link; the stored link is relative, and checked anyway.
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return done(request, target)
    return done(request, reverse("notification-list"))


@login_required
@require_POST
def notification_read_all(request: HubRequest) -> HttpResponse:
    changed = services.notification_mark_all_read(actor=request.user)
    if changed:
        messages.success(request, _("All notifications are marked as read."))
    return done(request, reverse("notification-list"))


@login_required
def notification_preferences(request: HubRequest) -> HttpResponse:
    form = PreferenceForm(post_data(request), instance=selectors.preference_for(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.preference_update(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Your notification settings are saved."))
            return done(request, reverse("notification-preferences"))
    return render(request, "messaging/notification_preferences.html", {"form": form, "section": "notifications"})
