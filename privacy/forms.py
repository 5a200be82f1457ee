"""Forms of the data-protection officer's pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from privacy.models import LegalHold


class LegalHoldForm(forms.Form):
    reference = forms.CharField(
        label=_("Case reference"), max_length=20, help_text=_("The person's case reference, for example P-ABCD2345.")
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=LegalHold._meta.get_field("reason").max_length,
        help_text=_("A file number or short reason, without personal data."),
    )
