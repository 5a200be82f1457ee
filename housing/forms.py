"""Forms of the housing pages. They read and convert input and offer only the choices the actor
may make; whether a value is acceptable (a negative rent, a move-out before the move-in) is the
services' decision, shown on the form through ``hub.web.apply_errors``.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.forms import EMPTY_CHOICE, HubForm
from agencies.models import Agency, Workspace
from housing import services
from housing.models import (
    LISTING_LEASE_HOLDERS,
    MAX_HOUSEHOLD_SIZE,
    Accessibility,
    LeaseHolder,
    Listing,
    RentLimit,
)
from referrals.forms.persons import AgencyChoiceField, DateInput, choice_field
from referrals.models import Household

MONEY_STEP = {"step": "0.01", "inputmode": "decimal"}
MAX_DISTRICTS_TEXT = 2000


class MoneyField(forms.DecimalField):
    """An amount in euros. No lower bound here: the service refuses a negative one with its own words."""

    def __init__(self, *, label: Any, required: bool = True, help_text: Any = "") -> None:
        super().__init__(
            label=label,
            required=required,
            help_text=help_text,
            max_digits=8,
            decimal_places=2,
            widget=forms.NumberInput(attrs=MONEY_STEP),
        )


class HouseholdChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Household) -> str:
        return f"{obj.name} ({obj.reference})"


class ListingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Listing) -> str:
        return f"{obj.street}, {obj.city} ({obj.reference})"


class WorkspaceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Workspace) -> str:
        return str(obj.name)


def _size_field(required: bool = False, help_text: Any = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Household size"),
        min_value=1,
        max_value=MAX_HOUSEHOLD_SIZE,
        required=required,
        help_text=help_text,
    )


def _note_field(label: Any = None, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label or _("Note"), max_length=2000, required=required, widget=forms.Textarea(attrs={"rows": 3})
    )


class ListingForm(HubForm):
    """A flat's data; on a new flat also the managing agency (among the actor's housing offices)."""

    owner_agency = AgencyChoiceField(
        label=_("Managing agency"), queryset=Agency.objects.none(), empty_label=EMPTY_CHOICE
    )
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    street = forms.CharField(label=_("Street and number"), max_length=200)
    postcode = forms.CharField(label=_("Postcode"), max_length=10)
    city = forms.CharField(label=_("City"), max_length=100)
    district = forms.CharField(
        label=_("District"), max_length=100, help_text=_("Town or part of town, as households state their wishes.")
    )
    comparison_area = forms.CharField(
        label=_("Comparison area"),
        max_length=100,
        help_text=_("The area of the rent limits (KdU) this flat belongs to."),
    )
    rooms = forms.DecimalField(
        label=_("Rooms"), max_digits=3, decimal_places=1, widget=forms.NumberInput(attrs={"step": "0.5"})
    )
    living_space = forms.DecimalField(
        label=_("Living space (m²)"), max_digits=6, decimal_places=2, widget=forms.NumberInput(attrs=MONEY_STEP)
    )
    floor = forms.IntegerField(label=_("Floor"), initial=0, help_text=_("0: ground floor"))
    has_lift = forms.BooleanField(label=_("Lift"), required=False)
    accessibility = forms.TypedChoiceField(
        label=_("Accessibility"), choices=Accessibility.choices, coerce=int, initial=Accessibility.NONE
    )
    base_rent = MoneyField(label=_("Base rent (€)"))
    running_costs = MoneyField(label=_("Running costs (€)"), help_text=_("Without heating."))
    heating_costs = MoneyField(label=_("Heating costs (€)"))
    available_from = forms.DateField(label=_("Available from"), widget=DateInput())
    lease_holder = forms.ChoiceField(
        label=_("Lease held by"), choices=LISTING_LEASE_HOLDERS, initial=LeaseHolder.COUNTY
    )
    landlord_name = forms.CharField(label=_("Landlord"), max_length=200, required=False)
    landlord_phone = forms.CharField(label=_("Landlord's phone"), max_length=40, required=False)
    landlord_email = forms.EmailField(label=_("Landlord's e-mail"), required=False)
    description = forms.CharField(
        label=_("Description"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, agencies: QuerySet[Agency] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if agencies is None:
            # A flat stays with its housing office: editing does not offer the choice.
            del self.fields["owner_agency"]
        else:
            field = choice_field(self, "owner_agency")
            field.queryset = agencies
            if len(agencies) == 1:
                field.initial = agencies[0].pk
        # The landlord's contact is someone else's data: no autofill from the officer's address book.
        for name in ("landlord_name", "landlord_phone", "landlord_email"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in services.LISTING_FIELDS}


def listing_initial(listing: Listing) -> dict[str, Any]:
    return {name: getattr(listing, name) for name in services.LISTING_FIELDS}


class PhotoForm(HubForm):
    photo = forms.FileField(
        label=_("Photo"),
        help_text=_("JPEG, PNG or WebP, at most 10 MB. Location and camera data are removed."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    caption = forms.CharField(
        label=_("Caption"),
        max_length=200,
        required=False,
        help_text=_("Describes the photo for people who cannot see it, e.g. “Kitchen with window”."),
    )


class ShareForm(HubForm):
    agency = AgencyChoiceField(
        label=_("Agency"), queryset=Agency.objects.none(), required=False, empty_label=_("- No single agency -")
    )
    workspace = WorkspaceChoiceField(
        label=_("Workspace"),
        queryset=Workspace.objects.none(),
        required=False,
        empty_label=_("- No workspace -"),
        help_text=_("Every member agency of the round table sees the flat once it is published."),
    )

    def __init__(self, *args: Any, agencies: QuerySet[Agency], workspaces: QuerySet[Workspace], **kwargs: Any):
        super().__init__(*args, **kwargs)
        choice_field(self, "agency").queryset = agencies
        choice_field(self, "workspace").queryset = workspaces

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and (cleaned.get("agency") is None) == (cleaned.get("workspace") is None):
            raise forms.ValidationError(_("Share with either an agency or a workspace."))
        return cleaned


class RentLimitForm(HubForm):
    agency = AgencyChoiceField(label=_("Maintained by"), queryset=Agency.objects.none(), empty_label=EMPTY_CHOICE)
    comparison_area = forms.CharField(label=_("Comparison area"), max_length=100)
    household_size = _size_field(required=True)
    max_gross_cold_rent = MoneyField(label=_("Maximum gross cold rent (€)"))
    max_heating_costs = MoneyField(label=_("Maximum heating costs (€)"), required=False)
    max_living_space = forms.DecimalField(
        label=_("Reasonable living space (m²)"),
        max_digits=6,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs=MONEY_STEP),
    )
    valid_from = forms.DateField(
        label=_("Valid from"), widget=DateInput(), help_text=_("Applies until a newer row for the same area and size.")
    )

    def __init__(self, *args: Any, agencies: QuerySet[Agency] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if agencies is None:
            del self.fields["agency"]
        else:
            field = choice_field(self, "agency")
            field.queryset = agencies
            if len(agencies) == 1:
                field.initial = agencies[0].pk

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in services.RENT_LIMIT_FIELDS}


def rent_limit_initial(limit: RentLimit) -> dict[str, Any]:
    return {name: getattr(limit, name) for name in services.RENT_LIMIT_FIELDS}


def _districts(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class HousingRequestForm(HubForm):
    """Ask for a named flat, or for any that fits at a housing office."""

    household = HouseholdChoiceField(label=_("Household"), queryset=Household.objects.none(), empty_label=EMPTY_CHOICE)
    to_agency = AgencyChoiceField(
        label=_("Housing office"),
        queryset=Agency.objects.none(),
        empty_label=EMPTY_CHOICE,
        help_text=_("The agency whose flats you ask for."),
    )
    household_size = _size_field(help_text=_("Empty: the number of the household's members."))
    accessibility_need = forms.TypedChoiceField(
        label=_("Accessibility needed"), choices=Accessibility.choices, coerce=int, initial=Accessibility.NONE
    )
    districts = forms.CharField(
        label=_("Wished districts"),
        max_length=MAX_DISTRICTS_TEXT,
        required=False,
        help_text=_("Separated by commas."),
    )
    wanted_from = forms.DateField(label=_("Wanted from"), required=False, widget=DateInput())
    note = _note_field()

    def __init__(
        self,
        *args: Any,
        households: QuerySet[Household],
        agencies: QuerySet[Agency] | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "household").queryset = households
        if agencies is None:
            # A named flat goes to its own housing office.
            del self.fields["to_agency"]
        else:
            choice_field(self, "to_agency").queryset = agencies

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["districts"] = _districts(data.get("districts") or "")
        return data


class MatchForm(HubForm):
    """What the household needs; empty fields come from its open request or its members."""

    household_size = _size_field(help_text=_("Empty: from the open request, else the household's members."))
    accessibility_need = forms.TypedChoiceField(
        label=_("Accessibility needed"),
        choices=[("", _("As in the request")), *Accessibility.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    districts = forms.MultipleChoiceField(
        label=_("Wished districts"), required=False, widget=forms.CheckboxSelectMultiple
    )
    wanted_from = forms.DateField(label=_("Wanted from"), required=False, widget=DateInput())

    def __init__(self, *args: Any, districts: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["districts"].choices = [(name, name) for name in districts]  # type: ignore[attr-defined]


def default_expiry() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=services.DEFAULT_RESERVATION_DAYS)


def end_of_day(day: datetime.date) -> datetime.datetime:
    """A reservation "until" a day runs to that day's end, in the county's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59)))


class ReserveForm(HubForm):
    household = HouseholdChoiceField(label=_("Household"), queryset=Household.objects.none(), empty_label=EMPTY_CHOICE)
    household_size = _size_field(help_text=_("Empty: the number of the household's members."))
    expires_at = forms.DateField(
        label=_("Reserved until"),
        widget=DateInput(),
        help_text=_("At most %(days)d days.") % {"days": services.MAX_RESERVATION_DAYS},
    )
    note = _note_field()

    def __init__(self, *args: Any, households: QuerySet[Household] | None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("expires_at", default_expiry())
        super().__init__(*args, **kwargs)
        if households is None:
            # Accepting a request reserves for the household that asked.
            del self.fields["household"]
            del self.fields["household_size"]
        else:
            choice_field(self, "household").queryset = households


class AcceptForm(ReserveForm):
    listing = ListingChoiceField(
        label=_("Flat"),
        queryset=Listing.objects.none(),
        empty_label=EMPTY_CHOICE,
        help_text=_("An available flat of your housing office."),
    )
    field_order = ["listing", "expires_at", "note"]

    def __init__(self, *args: Any, listings: QuerySet[Listing] | None, **kwargs: Any) -> None:
        super().__init__(*args, households=None, **kwargs)
        if listings is None:
            del self.fields["listing"]
        else:
            choice_field(self, "listing").queryset = listings


class NoteForm(HubForm):
    note = _note_field()


class ReasonForm(HubForm):
    note = _note_field(label=_("Reason"), required=True)


class AllocateForm(HubForm):
    move_in = forms.DateField(label=_("Move-in"), required=False, widget=DateInput(), help_text=_("If known."))
    lease_holder = forms.ChoiceField(label=_("Lease held by"), choices=LeaseHolder.choices)
    note = _note_field()


class ApprovalForm(HubForm):
    household = HouseholdChoiceField(label=_("Household"), queryset=Household.objects.none(), empty_label=EMPTY_CHOICE)
    household_size = _size_field(help_text=_("Empty: the number of the household's members."))
    agency = AgencyChoiceField(label=_("Approving jobcenter"), queryset=Agency.objects.none(), empty_label=EMPTY_CHOICE)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the costs above the limit are accepted (§ 22 (4) SGB II)."),
    )

    def __init__(self, *args: Any, households: QuerySet[Household], agencies: QuerySet[Agency], **kwargs: Any):
        super().__init__(*args, **kwargs)
        choice_field(self, "household").queryset = households
        field = choice_field(self, "agency")
        field.queryset = agencies
        if len(agencies) == 1:
            field.initial = agencies[0].pk


class MoveInForm(HubForm):
    move_in = forms.DateField(label=_("Move-in"), widget=DateInput())


class MoveOutForm(HubForm):
    RELIST_CHOICES = [
        ("", _("As the lease says: offered again unless the tenant holds the lease")),
        ("yes", _("Offer the flat again")),
        ("no", _("End the listing")),
    ]
    move_out = forms.DateField(label=_("Move-out"), widget=DateInput())
    relist = forms.ChoiceField(label=_("Afterwards"), choices=RELIST_CHOICES, required=False)
    note = _note_field()

    def relist_value(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("relist") or "")


class HandoverForm(HubForm):
    to_holder = forms.ChoiceField(label=_("Lease held from then on by"), choices=LeaseHolder.choices)
    effective_on = forms.DateField(label=_("Effective on"), widget=DateInput(), required=False)
    note = _note_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("to_holder", LeaseHolder.TENANT)
        super().__init__(*args, **kwargs)
