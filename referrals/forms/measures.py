"""Forms of the measure catalogue and of enrolment. The services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from agencies.forms import EMPTY_CHOICE, HubForm
from agencies.models import Agency
from referrals.forms.persons import AgencyChoiceField, DateInput, choice_field
from referrals.models import Measure, Person
from referrals.services import MEASURE_FIELDS


class MeasureForm(forms.ModelForm):
    required_css_class = "required"
    provider = AgencyChoiceField(label=_("Provider"), queryset=Agency.objects.none(), empty_label=EMPTY_CHOICE)

    class Meta:
        model = Measure
        fields = ["provider", *MEASURE_FIELDS]
        widgets = {
            "starts_on": DateInput(),
            "ends_on": DateInput(),
            "description": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "languages": _("For example: German, Arabic."),
            "seats": _("Enrolments beyond the seats go to the waiting list, in their order."),
        }

    def __init__(self, *args: Any, providers: list[Agency] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if providers is None:
            # A measure stays with its provider: editing does not offer the choice.
            del self.fields["provider"]
            return
        field = choice_field(self, "provider")
        field.queryset = Agency.objects.filter(pk__in=[agency.pk for agency in providers]).order_by("name")
        if len(providers) == 1:
            field.initial = providers[0].pk

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The measure cannot end before it starts."))
        return cleaned

    def values(self) -> dict[str, Any]:
        return {field: self.cleaned_data[field] for field in MEASURE_FIELDS}


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Person) -> str:
        return f"{obj.last_name}, {obj.first_name} ({obj.reference})"


class EnrolForm(HubForm):
    person = PersonChoiceField(
        label=_("Person"),
        queryset=Person.objects.none(),
        empty_label=EMPTY_CHOICE,
        help_text=_("Persons whose files your agency holds and who are not enrolled here yet."),
    )

    def __init__(self, *args: Any, persons: QuerySet[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "person").queryset = persons
