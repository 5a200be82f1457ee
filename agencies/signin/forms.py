"""Forms of the sign-in steps and of the two-factor set-up."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from agencies.models import SignInStage
from agencies.signin import selectors, services
from hub.middleware import client_ip


def blocked_message() -> str:
    return gettext(
        "Too many failed sign-in attempts. Signing in is blocked for up to %(minutes)s minutes; "
        "please try again later. If you have forgotten your password, ask your agency's administrator."
    ) % {"minutes": settings.HUB_SIGNIN_WINDOW_MINUTES}


class SignInForm(AuthenticationForm):
    """Django's login form, refusing while the account or the address is blocked and counting failures.

    Blocked attempts are refused before the password is checked, so that a block also hides
    whether a password would have been right. Unknown accounts are counted and blocked exactly
    like existing ones, and Django's backend hashes the password for them too: answer, queries
    and timing do not tell whether an account exists.
    """

    required_css_class = "required"

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            address = client_ip(self.request) if self.request is not None else None
            blocked = selectors.blocked_for(username, address)
            if blocked:
                services.sign_in_refused(username=username, ip_address=address, blocked=blocked)
                raise ValidationError(blocked_message(), code="blocked")
            try:
                return super().clean()
            except ValidationError:
                services.sign_in_failed(username=username, ip_address=address, stage=SignInStage.PASSWORD)
                raise
        return super().clean()


def code_field(recovery: bool) -> forms.CharField:
    if recovery:
        return forms.CharField(
            label=_("Recovery code"),
            max_length=20,
            help_text=_("One of the recovery codes you saved when you set up two-factor sign-in. Each works once."),
            widget=forms.TextInput(
                attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false", "autocorrect": "off"}
            ),
        )
    return forms.CharField(
        label=_("Code"),
        max_length=12,
        help_text=_("The 6-digit code your authenticator app shows now."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class SecondFactorForm(forms.Form):
    """The second step of the sign-in: a code of the authenticator app, or a recovery code."""

    required_css_class = "required"

    def __init__(self, *args: Any, recovery: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"] = code_field(recovery)


class SetupForm(forms.Form):
    required_css_class = "required"
    code = code_field(recovery=False)


class DisableForm(forms.Form):
    required_css_class = "required"
    secret = forms.CharField(
        label=_("Password or current code"),
        strip=False,
        help_text=_("Your password, or the code your authenticator app shows now."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
