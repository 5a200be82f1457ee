"""Forms of the referrals UI: a new referral and the steps that need more than a click."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.forms import EMPTY_CHOICE, HubForm
from agencies.models import Agency
from referrals.forms.persons import AgencyChoiceField, BasisFormMixin, DateInput, categories_field, choice_field
from referrals.models import Consent, Measure, Outcome, OutcomeReason, Urgency

DEFAULT_ANSWER_DAYS = 14


class MeasureChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Measure) -> str:
        return f"{obj.title} ({obj.provider.display_name})"


class ReferralForm(BasisFormMixin, HubForm):
    to_agency = AgencyChoiceField(label=_("To agency"), queryset=Agency.objects.none(), empty_label=EMPTY_CHOICE)
    measure = MeasureChoiceField(
        label=_("Measure"),
        queryset=Measure.objects.none(),
        required=False,
        empty_label=_("- No particular measure -"),
        help_text=_("Optional: a course or measure of the receiving provider."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    categories = categories_field(_("Which of the person's data the receiving agency may see. Identity always."))
    answer_due_on = forms.DateField(label=_("Answer due on"), widget=DateInput())

    field_order = [
        "to_agency",
        "measure",
        "reason",
        "urgency",
        "categories",
        "legal_basis",
        "consent",
        "basis_reason",
        "answer_due_on",
    ]

    def __init__(
        self,
        *args: Any,
        agencies: QuerySet[Agency],
        consents: QuerySet[Consent],
        measures: QuerySet[Measure],
        **kwargs: Any,
    ) -> None:
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("answer_due_on", timezone.localdate() + datetime.timedelta(days=DEFAULT_ANSWER_DAYS))
        super().__init__(*args, **kwargs)
        to_agency = choice_field(self, "to_agency")
        to_agency.queryset = agencies
        measure = choice_field(self, "measure")
        measure.queryset = measures
        self.set_consents(consents)


class NoteForm(HubForm):
    """Decline or fail: the other side learns why."""

    note = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class CompleteForm(HubForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect)
    outcome_reason = forms.ChoiceField(
        label=_("Why was it not successful?"),
        choices=[("", EMPTY_CHOICE), *OutcomeReason.choices],
        required=False,
        help_text=_("Required when the outcome is not successful."),
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("outcome") == Outcome.NOT_SUCCESSFUL and not cleaned.get("outcome_reason"):
            self.add_error("outcome_reason", _("Say why it was not successful."))
        return cleaned


class RedirectForm(HubForm):
    to_agency = AgencyChoiceField(
        label=_("Refer instead to"),
        queryset=Agency.objects.none(),
        empty_label=EMPTY_CHOICE,
        help_text=_("This referral closes; a new one goes to the agency chosen here, on the same basis."),
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, agencies: QuerySet[Agency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        to_agency = choice_field(self, "to_agency")
        to_agency.queryset = agencies
