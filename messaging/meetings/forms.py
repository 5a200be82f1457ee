"""Forms of the meeting pages. They read and convert input and offer only the choices the actor may
make; whether a value is acceptable (an end before the start, an agency that is not at the round
table, a correction without changes) is the services' decision, shown on the form through
``hub.web.apply_errors``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from agencies.forms import EMPTY_CHOICE, HubForm
from agencies.models import Agency, User, Workspace
from messaging.models import AGENDA_TEXT_MAX_LENGTH, MINUTES_MAX_LENGTH, AgendaItem, Attendance
from referrals.forms.persons import AgencyChoiceField, AgencyMultipleChoiceField, choice_field
from referrals.models import Person, Referral

UNKNOWN_CASE = _("Unknown or not visible to you.")


class DateTimeInput(forms.DateTimeInput):
    """The browser's own date and time picker; the value is read in the hub's time zone."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class WorkspaceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Workspace) -> str:
        return str(obj.name)


class MeetingForm(HubForm):
    """When and where a meeting takes place; when planning also the round table and who is invited."""

    workspace = WorkspaceChoiceField(
        label=_("Round table"), queryset=Workspace.objects.none(), empty_label=EMPTY_CHOICE
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=DateTimeInput())
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=DateTimeInput(), required=False)
    place = forms.CharField(
        label=_("Place"),
        max_length=200,
        required=False,
        help_text=_("Building and room. Give a place, a video link, or both."),
    )
    video_url = forms.URLField(
        label=_("Video link"), max_length=500, required=False, assume_scheme="https", help_text=_("https://…")
    )
    invited_agencies = AgencyMultipleChoiceField(
        label=_("Invited agencies"),
        queryset=Agency.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Leave all unticked to invite every agency of the round table. "
            "The coordinating agency is always invited. Agencies that are not invited do not see the meeting."
        ),
    )

    FIELDS = ("title", "starts_at", "ends_at", "place", "video_url")

    def __init__(
        self,
        *args: Any,
        workspaces: QuerySet[Workspace] | None = None,
        agencies: QuerySet[Agency] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if workspaces is None:
            # A meeting stays at its round table; its invitations are managed on its page.
            del self.fields["workspace"]
            del self.fields["invited_agencies"]
            return
        choice_field(self, "workspace").queryset = workspaces
        choice_field(self, "invited_agencies").queryset = agencies if agencies is not None else Agency.objects.none()
        if len(workspaces) == 1:
            self.fields["workspace"].initial = workspaces[0].pk

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class CancelForm(HubForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The invited agencies see it on the meeting's page."),
    )


class InviteForm(HubForm):
    agency = AgencyChoiceField(label=_("Agency"), queryset=Agency.objects.none(), empty_label=EMPTY_CHOICE)

    def __init__(self, *args: Any, agencies: QuerySet[Agency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "agency").queryset = agencies


PRESENCE_CHOICES = [("present", _("present")), ("absent", _("absent"))]


class AttendanceForm(HubForm):
    """Present or absent for each staff member of the invited agencies; a note for each."""

    def __init__(
        self, *args: Any, people: Iterable[tuple[User, str]], recorded: dict[int, Attendance], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.people: list[tuple[User, forms.BoundField, forms.BoundField]] = []
        for user, agencies in people:
            row = recorded.get(user.pk)
            name = user.get_full_name() or user.get_username()
            presence = forms.ChoiceField(
                label=name,
                choices=PRESENCE_CHOICES,
                required=False,
                widget=forms.RadioSelect,
                help_text=agencies,
                initial=("present" if row.present else "absent") if row is not None else None,
            )
            # The legend names the person; the label stays short beside it.
            note = forms.CharField(
                label=_("Note"),
                max_length=200,
                required=False,
                initial=row.note if row is not None else "",
            )
            self.fields[f"presence_{user.pk}"] = presence
            self.fields[f"note_{user.pk}"] = note
            self.people.append((user, self[f"presence_{user.pk}"], self[f"note_{user.pk}"]))

    def changes(self, recorded: dict[int, Attendance]) -> list[tuple[User, bool, str]]:
        """The rows to record: those ticked whose presence or note differ from what is on record."""
        found = []
        for user, _presence, _note in self.people:
            choice = self.cleaned_data.get(f"presence_{user.pk}") or ""
            note = self.cleaned_data.get(f"note_{user.pk}") or ""
            if not choice:
                continue
            present = choice == "present"
            row = recorded.get(user.pk)
            if row is None or row.present != present or row.note != note:
                found.append((user, present, note))
        return found


class AgendaItemForm(HubForm):
    """A topic of the agenda; when proposing it, optionally the case it concerns, by case reference."""

    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        max_length=AGENDA_TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the round table should discuss. Name no person here: use the case reference below."),
    )
    case_reference = forms.CharField(
        label=_("Case reference"),
        max_length=20,
        required=False,
        help_text=_("Optional: the case reference of a person your agency may see, e.g. P-7KX2M9QA."),
    )
    referral_reference = forms.CharField(
        label=_("Referral reference"),
        max_length=20,
        required=False,
        help_text=_("Optional: the reference of a referral of your agency, e.g. R-4HT8W2LC."),
    )

    def __init__(
        self,
        *args: Any,
        persons: QuerySet[Person] | None = None,
        referrals: QuerySet[Referral] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.persons = persons
        self.referrals = referrals
        if persons is None:
            # The case of an item is chosen when it is proposed; later only its wording changes.
            del self.fields["case_reference"]
            del self.fields["referral_reference"]
        for name in ("case_reference", "referral_reference"):
            if name in self.fields:
                self.fields[name].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean_case_reference(self) -> Person | None:
        value = self.cleaned_data.get("case_reference", "").strip()
        if not value or self.persons is None:
            return None
        # Only the key: the page needs to know which case, not who it is.
        found = self.persons.filter(reference__iexact=value).only("pk").first()
        if found is None:
            raise forms.ValidationError(UNKNOWN_CASE)
        return found

    def clean_referral_reference(self) -> Referral | None:
        value = self.cleaned_data.get("referral_reference", "").strip()
        if not value or self.referrals is None:
            return None
        found = self.referrals.filter(reference__iexact=value).only("pk", "person_id").first()
        if found is None:
            raise forms.ValidationError(UNKNOWN_CASE)
        return found


class MoveForm(HubForm):
    direction = forms.ChoiceField(choices=[("up", _("up")), ("down", _("down"))])


class CorrectionForm(HubForm):
    """The approved minutes of every item, to correct, and why; only changed texts become corrections."""

    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded with the new version of the minutes; the earlier versions stay as they were."),
    )

    def __init__(self, *args: Any, items: Iterable[AgendaItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"minutes_{item.pk}"] = forms.CharField(
                label=_("Item %(position)s: %(title)s") % {"position": item.position, "title": item.title},
                max_length=MINUTES_MAX_LENGTH,
                required=False,
                strip=False,
                initial=item.minutes,
                widget=forms.Textarea(attrs={"rows": 6}),
            )
        # The reason comes last, after the texts it explains.
        self.order_fields([*(f"minutes_{item.pk}" for item in self.items), "reason"])

    def corrections(self) -> dict[int, str]:
        """The items whose text differs from the approved one, as the service compares them."""
        found = {}
        for item in self.items:
            text = (self.cleaned_data.get(f"minutes_{item.pk}") or "").replace("\r\n", "\n").strip()
            if text != item.minutes:
                found[item.pk] = text
        return found
