"""Forms of profiling, plans, transfers of responsibility and recognition procedures.

They validate input and offer only choices the actor may make; the services decide and
write. The profile's lists are Django formsets with a few empty rows, so that a new
entry needs no JavaScript.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.forms import EMPTY_CHOICE, HubForm
from agencies.models import Agency
from referrals.forms.persons import AgencyChoiceField, DateInput, choice_field
from referrals.models import (
    BenefitScheme,
    CEFRLevel,
    Plan,
    PlanStep,
    QualificationKind,
    RecognitionProcedure,
    RecognitionStatus,
)
from referrals.services import MAX_PROFILE_ITEMS, MAX_YEARS, TRANSFER_CHECKLIST

# Empty rows offered below the entries of a profile list.
PROFILE_EXTRA_ROWS = 5

CHECKLIST_LABELS = {
    "effective_date_confirmed": _("The date of the change is confirmed by both agencies"),
    "open_measures_reviewed": _("Open measures and enrolments are reviewed"),
    "plan_handed_over": _("The integration plan is handed over"),
    "housing_checked": _("The flat and its costs are checked"),
}


def _with_blank(choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", EMPTY_CHOICE), *choices]


class ProfileRowForm(forms.Form):
    """One row of a profile list. Its inputs are labelled per row, for a table with column headers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        number = (self.prefix or "").rsplit("-", 1)[-1]
        row = int(number) + 1 if number.isdigit() else 0
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = f"{field.label} ({row})" if row else str(field.label)

    def has_changed(self) -> bool:
        """A row counts when anything is filled in: an emptied row is dropped like an unused one."""
        if not self.is_bound:
            return False
        return any(str(self.data.get(self.add_prefix(name), "")).strip() for name in self.fields if name != "DELETE")

    def entry(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.fields if name != "DELETE"}


class ProfileRowFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        # Every row may stay empty, the prefilled ones too: clearing a row removes the entry.
        return {**super().get_form_kwargs(index), "empty_permitted": True}

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        delete = form.fields.get("DELETE")
        if delete is not None and index is not None:
            delete.widget.attrs["aria-label"] = f"{delete.label} ({index + 1})"


class LanguageRowForm(ProfileRowForm):
    language = forms.CharField(label=_("Language"), max_length=100)
    level = forms.ChoiceField(label=_("Level (CEFR)"), choices=_with_blank(CEFRLevel.choices))


class QualificationRowForm(ProfileRowForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=_with_blank(QualificationKind.choices))
    title = forms.CharField(label=_("Qualification"), max_length=200)
    country = forms.CharField(label=_("Country"), max_length=100, required=False)
    recognition = forms.ChoiceField(label=_("Recognition"), choices=_with_blank(RecognitionStatus.choices))


class WorkRowForm(ProfileRowForm):
    occupation = forms.CharField(label=_("Occupation"), max_length=200)
    country = forms.CharField(label=_("Country"), max_length=100, required=False)
    years = forms.IntegerField(label=_("Years"), min_value=0, max_value=MAX_YEARS)

    def entry(self) -> dict[str, Any]:
        return {**super().entry(), "country": self.cleaned_data.get("country") or ""}


def _formset(form: type[forms.Form]) -> type[forms.BaseFormSet]:
    return forms.formset_factory(
        form,
        formset=ProfileRowFormSet,
        extra=PROFILE_EXTRA_ROWS,
        max_num=MAX_PROFILE_ITEMS,
        validate_max=True,
        absolute_max=MAX_PROFILE_ITEMS + PROFILE_EXTRA_ROWS,
        can_delete=True,
    )


LanguageFormSet = _formset(LanguageRowForm)
QualificationFormSet = _formset(QualificationRowForm)
WorkFormSet = _formset(WorkRowForm)


class ProfileTextForm(HubForm):
    wishes = forms.CharField(label=_("Personal wishes"), max_length=4000, required=False, widget=forms.Textarea)
    childcare_needs = forms.CharField(
        label=_("Childcare needs"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    assessment = forms.CharField(label=_("Assessment"), max_length=8000, required=False, widget=forms.Textarea)


class ProfileForms:
    """The profile's text fields and its three lists, validated together."""

    LISTS = (
        ("languages", LanguageFormSet),
        ("qualifications", QualificationFormSet),
        ("work_experience", WorkFormSet),
    )

    def __init__(self, data: Any = None, initial: dict[str, Any] | None = None) -> None:
        initial = initial or {}
        self.text = ProfileTextForm(data, initial={key: initial.get(key, "") for key in ProfileTextForm.base_fields})
        self.formsets = {
            name: formset(data, prefix=name, initial=list(initial.get(name) or [])) for name, formset in self.LISTS
        }

    @property
    def languages(self) -> forms.BaseFormSet:
        return self.formsets["languages"]

    @property
    def qualifications(self) -> forms.BaseFormSet:
        return self.formsets["qualifications"]

    @property
    def work_experience(self) -> forms.BaseFormSet:
        return self.formsets["work_experience"]

    def is_valid(self) -> bool:
        valid = self.text.is_valid()
        for formset in self.formsets.values():
            valid = formset.is_valid() and valid
        return valid

    def values(self) -> dict[str, Any]:
        """The service's arguments: filled rows not marked for removal, in their order."""
        values: dict[str, Any] = dict(self.text.cleaned_data)
        for name, formset in self.formsets.items():
            removed = {id(form) for form in formset.deleted_forms}
            values[name] = [form.entry() for form in formset.forms if form.has_changed() and id(form) not in removed]
        return values


class PlanForm(forms.ModelForm):
    required_css_class = "required"

    class Meta:
        model = Plan
        fields = ["goals", "plain_summary", "review_on"]
        widgets = {
            "goals": forms.Textarea(attrs={"rows": 5}),
            "plain_summary": forms.Textarea(attrs={"rows": 5}),
            "review_on": DateInput(),
        }
        help_texts = {
            "goals": _("What the person wants to reach, step by step."),
            "plain_summary": _("Printed for the person: short sentences, no abbreviations."),
            "review_on": _("When you and the person look at the plan again."),
        }


class PlanAgreeForm(HubForm):
    agreed_on = forms.DateField(label=_("Signed on"), widget=DateInput())
    review_on = forms.DateField(label=_("Review on"), widget=DateInput())

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"agreed_on": timezone.localdate(), "review_on": plan.review_on})
        super().__init__(*args, **kwargs)


class PlanStepForm(forms.ModelForm):
    required_css_class = "required"
    owner_agency = AgencyChoiceField(label=_("Responsible agency"), queryset=Agency.objects.none())

    class Meta:
        model = PlanStep
        fields = ["kind", "title", "owner_agency", "starts_on", "due_on", "status", "notes"]
        widgets = {"starts_on": DateInput(), "due_on": DateInput(), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, agencies: QuerySet[Agency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "owner_agency").queryset = agencies
        choice_field(self, "owner_agency").empty_label = EMPTY_CHOICE

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_on, due_on = cleaned.get("starts_on"), cleaned.get("due_on")
        if starts_on and due_on and due_on < starts_on:
            self.add_error("due_on", _("The step cannot be due before it starts."))
        return cleaned


class PlanStepProgressForm(forms.ModelForm):
    """What an agency owning a step reports when it does not hold the person's file."""

    required_css_class = "required"

    class Meta:
        model = PlanStep
        fields = ["status", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


def _checklist_fields() -> dict[str, forms.BooleanField]:
    return {key: forms.BooleanField(label=CHECKLIST_LABELS[key], required=False) for key in TRANSFER_CHECKLIST}


class ChecklistMixin(forms.Form):
    def checklist(self) -> dict[str, bool]:
        return {key: bool(self.cleaned_data.get(key)) for key in TRANSFER_CHECKLIST}


class TransferProposeForm(ChecklistMixin, HubForm):
    to_agency = AgencyChoiceField(
        label=_("New responsible agency"), queryset=Agency.objects.none(), empty_label=EMPTY_CHOICE
    )
    effective_on = forms.DateField(label=_("Responsible from"), widget=DateInput())
    new_benefit_scheme = forms.ChoiceField(label=_("Benefits from then on"), choices=_with_blank(BenefitScheme.choices))
    note = forms.CharField(label=_("Note"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, agencies: QuerySet[Agency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(_checklist_fields())
        choice_field(self, "to_agency").queryset = agencies

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "to_agency": data["to_agency"],
            "effective_on": data["effective_on"],
            "new_benefit_scheme": data["new_benefit_scheme"],
            "note": data.get("note", ""),
            "checklist": self.checklist(),
        }


class TransferCompleteForm(ChecklistMixin, HubForm):
    def __init__(self, *args: Any, checklist: dict[str, bool], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {key: bool(checklist.get(key)) for key in TRANSFER_CHECKLIST})
        super().__init__(*args, **kwargs)
        self.fields.update(_checklist_fields())


class RecognitionForm(forms.ModelForm):
    required_css_class = "required"

    class Meta:
        model = RecognitionProcedure
        fields = [
            "qualification",
            "country",
            "reference_profession",
            "competent_body",
            "applied_on",
            "decision",
            "decided_on",
            "gaps",
            "bridging",
        ]
        widgets = {
            "applied_on": DateInput(),
            "decided_on": DateInput(),
            "gaps": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "competent_body": _("For example the chamber of crafts or the IHK FOSA."),
            "decided_on": _("Required once there is a decision."),
            "gaps": _("The substantial differences the decision lists; required for a partial equivalence."),
        }
