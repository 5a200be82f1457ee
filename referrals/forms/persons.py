"""Forms of the persons UI: persons, households, merging, consents and shares.

They validate input and offer only choices the actor may make; the services decide and write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from agencies.forms import EMPTY_CHOICE, HubForm
from agencies.models import Agency
from referrals.models import CATEGORY_FIELDS, Category, Consent, Household, LegalBasis, Person

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# What a new person's record starts with; health notes come later, from the holder's own file.
CREATE_CATEGORIES = (Category.IDENTITY, Category.CONTACT, Category.RESIDENCE, Category.BENEFITS)
EDIT_CATEGORIES = (Category.IDENTITY, Category.CONTACT, Category.RESIDENCE, Category.HEALTH, Category.BENEFITS)


def _fields_of(categories: tuple[str, ...]) -> list[str]:
    # The household is chosen on its own page, where the actor sees which households exist.
    return [field for category in categories for field in CATEGORY_FIELDS[category] if field != "household"]


def choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    """A form's model choice field, whose queryset depends on the actor and is set per request."""
    return cast(forms.ModelChoiceField, form.fields[name])


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def categories_field(help_text: StrOrPromise = "") -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=_("Data categories"),
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=help_text or _("The identity is always part of it."),
    )


class AgencyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Agency) -> str:
        return str(obj.name)


class AgencyMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Agency) -> str:
        return str(obj.name)


class PersonForm(forms.ModelForm):
    required_css_class = "required"

    class Meta:
        model = Person
        fields = _fields_of(EDIT_CATEGORIES)
        widgets = {
            "birth_date": DateInput(),
            "arrival_date": DateInput(),
            "residence_permit_until": DateInput(),
            "benefits_since": DateInput(),
            "health_notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Someone else's data, not the caseworker's own: no autofill from the browser's address book.
        for field in self.fields.values():
            field.widget.attrs.setdefault("autocomplete", "off")
        if "phone" in self.fields:
            self.fields["phone"].widget.input_type = "tel"

    def person_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields or () if name in self.cleaned_data}


class PersonCreateForm(PersonForm):
    agency = AgencyChoiceField(
        label=_("Agency"),
        queryset=Agency.objects.none(),
        empty_label=EMPTY_CHOICE,
        help_text=_("The agency that registers the person opens its case file and becomes responsible."),
    )

    class Meta(PersonForm.Meta):
        fields = _fields_of(CREATE_CATEGORIES)

    field_order = ["agency"]

    def __init__(self, *args: Any, agencies: QuerySet[Agency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agency_field = choice_field(self, "agency")
        agency_field.queryset = agencies
        if len(agencies) == 1:
            agency_field.initial = agencies[0].pk
            agency_field.empty_label = None


class HouseholdForm(HubForm):
    household = forms.ModelChoiceField(
        label=_("Existing household"),
        queryset=Household.objects.none(),
        required=False,
        empty_label=_("- Open a new household -"),
    )
    name = forms.CharField(
        label=_("Name of the new household"),
        max_length=200,
        required=False,
        help_text=_("For example the family name."),
    )

    def __init__(self, *args: Any, households: QuerySet[Household], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        household_field = choice_field(self, "household")
        household_field.queryset = households
        self.fields["name"].widget.attrs["autocomplete"] = "off"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("household") and not (cleaned.get("name") or "").strip():
            self.add_error("name", _("Choose a household or name a new one."))
        return cleaned


class MergeForm(HubForm):
    reference = forms.CharField(
        label=_("Case reference of the duplicate"),
        max_length=20,
        help_text=_("The duplicate's files, consents, shares and referrals move to this person; its record closes."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reference"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})


class ConsentForm(HubForm):
    categories = categories_field()
    recipients = AgencyMultipleChoiceField(
        label=_("Receiving agencies"),
        queryset=Agency.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=500)
    text_version = forms.CharField(
        label=_("Version of the consent text"), max_length=40, help_text=_("For example 2026-01.")
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput())
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DateInput())
    document = forms.FileField(
        label=_("Signed document (PDF)"),
        required=False,
        help_text=_("A PDF file of at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )

    def __init__(self, *args: Any, agencies: QuerySet[Agency], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("valid_from", timezone.localdate())
        super().__init__(*args, **kwargs)
        recipients = choice_field(self, "recipients")
        recipients.queryset = agencies
        for name in ("purpose", "text_version"):
            self.fields[name].widget.attrs["autocomplete"] = "off"


class ConsentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Consent) -> str:
        until = formats.date_format(obj.valid_until, "SHORT_DATE_FORMAT") if obj.valid_until else "…"
        since = formats.date_format(obj.valid_from, "SHORT_DATE_FORMAT")
        return f"{obj.purpose} ({obj.text_version}; {since} – {until})"


class BasisFormMixin(forms.Form):
    """The legal basis of a share or referral: consent, or a statutory basis with its reason."""

    legal_basis = forms.ChoiceField(
        label=_("Legal basis"), choices=[("", EMPTY_CHOICE), *LegalBasis.choices], required=True
    )
    consent = ConsentChoiceField(
        label=_("Consent"),
        queryset=Consent.objects.none(),
        required=False,
        empty_label=_("- No consent -"),
        help_text=_("Required when the legal basis is the person's consent."),
    )
    basis_reason = forms.CharField(
        label=_("Reason for the legal basis"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for a statutory basis: why does it apply here?"),
    )

    def set_consents(self, consents: QuerySet[Consent]) -> None:
        consent_field = choice_field(self, "consent")
        consent_field.queryset = consents
        if len(consents) == 1:
            consent_field.initial = consents[0].pk


class ShareForm(BasisFormMixin, HubForm):
    to_agency = AgencyChoiceField(label=_("To agency"), queryset=Agency.objects.none(), empty_label=EMPTY_CHOICE)
    categories = categories_field()

    field_order = ["to_agency", "categories", "legal_basis", "consent", "basis_reason"]

    def __init__(self, *args: Any, agencies: QuerySet[Agency], consents: QuerySet[Consent], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        to_agency = choice_field(self, "to_agency")
        to_agency.queryset = agencies
        self.set_consents(consents)
