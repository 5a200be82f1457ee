"""Forms of the round table's work: minutes, decisions (with a referral or an action item in the same
step), action items and their progress.

They validate input and offer only choices the actor may make (agencies at the meeting, their staff
the actor can see, the person's consents); the services decide and write.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from agencies.forms import EMPTY_CHOICE, HubForm
from agencies.models import Agency, User
from messaging.models import AGENDA_TEXT_MAX_LENGTH, MINUTES_MAX_LENGTH, AgendaItem
from referrals.forms.persons import AgencyChoiceField, DateInput, choice_field
from referrals.forms.referrals import ReferralForm
from referrals.models import Consent, Measure


class MinutesForm(forms.Form):
    """One agenda item's minutes and the version they are based on; the editor renders its own fields."""

    minutes = forms.CharField(required=False, max_length=MINUTES_MAX_LENGTH, strip=False)
    version = forms.IntegerField(min_value=0)


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.get_username()


class ActionItemFieldsForm(HubForm):
    """What an action item consists of: the task, who owes it, and by when."""

    # Its fields may sit in a decision's form, where they count only when the box is ticked.
    use_required_attribute = False

    title = forms.CharField(label=_("Task"), max_length=300)
    owner_agency = AgencyChoiceField(
        label=_("Responsible agency"),
        queryset=Agency.objects.none(),
        empty_label=EMPTY_CHOICE,
        help_text=_("An agency taking part in the meeting."),
    )
    owner = StaffChoiceField(
        label=_("Responsible person"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("- Anyone at the agency -"),
        help_text=_("Optional: someone working for the responsible agency."),
    )
    due_on = forms.DateField(label=_("Due on"), widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, agencies: QuerySet[Agency], owners: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "owner_agency").queryset = agencies
        choice_field(self, "owner").queryset = owners

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ("title", "owner_agency", "owner", "due_on", "note")}


class AgendaItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: AgendaItem) -> str:
        return _("Item %(position)s: %(title)s") % {"position": obj.position, "title": obj.title}


class ActionItemForm(ActionItemFieldsForm):
    """A new action item of a meeting, optionally under one of its agenda items."""

    use_required_attribute = True

    agenda_item = AgendaItemChoiceField(
        label=_("Agenda item"),
        queryset=AgendaItem.objects.none(),
        required=False,
        empty_label=_("- The meeting as a whole -"),
    )

    field_order = ["agenda_item", "title", "owner_agency", "owner", "due_on", "note"]

    def __init__(self, *args: Any, agenda_items: QuerySet[AgendaItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "agenda_item").queryset = agenda_items

    def values(self) -> dict[str, Any]:
        return {**super().values(), "agenda_item": self.cleaned_data["agenda_item"]}


class ActionItemEditForm(ActionItemFieldsForm):
    use_required_attribute = True


class ActionItemStatusForm(HubForm):
    status = forms.ChoiceField(label=_("New status"))
    note = forms.CharField(
        label=_("Note"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional: what was done, or why the task is no longer needed."),
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status = cast(forms.ChoiceField, self.fields["status"])
        status.choices = choices
        if len(choices) == 1:
            status.initial = choices[0][0]


class DecisionForm(HubForm):
    text = forms.CharField(
        label=_("Decision"),
        max_length=AGENDA_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the round table decided, as it goes into the minutes."),
    )
    with_referral = forms.BooleanField(label=_("Also refer the person"), required=False)
    with_action_item = forms.BooleanField(label=_("Also create an action item"), required=False)


class DecisionReferralForm(ReferralForm):
    """The referral a decision creates: of the agenda item's person, on a legal basis like any referral."""

    use_required_attribute = False

    def __init__(self, *args: Any, agencies: QuerySet[Agency], consents: QuerySet[Consent], **kwargs: Any) -> None:
        super().__init__(*args, agencies=agencies, consents=consents, measures=Measure.objects.none(), **kwargs)
        # The round table refers to an agency; a provider's course is chosen on the referral itself.
        del self.fields["measure"]

    def values(self) -> dict[str, Any]:
        names = (
            "to_agency",
            "reason",
            "urgency",
            "categories",
            "legal_basis",
            "consent",
            "basis_reason",
            "answer_due_on",
        )
        return {name: self.cleaned_data[name] for name in names}
