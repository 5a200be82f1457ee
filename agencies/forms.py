"""Forms of the agencies UI. They validate input; the services decide and write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from agencies import selectors
from agencies.models import Agency, Invitation, Role, User, Workspace
from agencies.services import AGENCY_FIELDS

if TYPE_CHECKING:
    from hub.access import Actor


# Django 6.1's own prompt of empty select options; its German catalogue lacks it, ours (consulted first) has it.
EMPTY_CHOICE = _("- Select an option -")


class HubForm(forms.Form):
    required_css_class = "required"


ROLES_HELP = _(
    "Choose none to give read-only access: the person sees what their agency sees but cannot change anything."
)


def roles_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=_("Roles"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=ROLES_HELP,
    )


class ProfileForm(HubForm):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), max_length=254)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"


class AgencyForm(forms.ModelForm):
    required_css_class = "required"

    class Meta:
        model = Agency
        fields = list(AGENCY_FIELDS)


class StaffForm(HubForm):
    roles = roles_field()
    job_title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs["autocomplete"] = "off"


class InvitationForm(HubForm):
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    job_title = forms.CharField(label=_("Job title"), max_length=120, required=False)
    roles = roles_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The invitee's data, not the admin's own: no autofill from the admin's address book entry.
        for name in ("email", "first_name", "last_name"):
            self.fields[name].widget.attrs["autocomplete"] = "off"


class InvitationAcceptForm(HubForm):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @/./+/-/_ only. You log in with it."),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, invitation: Invitation, **kwargs: Any) -> None:
        self.invitation = invitation
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs["autocomplete"] = "username"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
        elif password1:
            candidate = User(
                username=cleaned.get("username", ""),
                email=self.invitation.email,
                first_name=self.invitation.first_name,
                last_name=self.invitation.last_name,
            )
            try:
                password_validation.validate_password(password1, candidate)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class WorkspaceCreateForm(HubForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    purpose = forms.CharField(label=_("Purpose"), max_length=4000, required=False, widget=forms.Textarea)
    coordinator_agency = forms.ModelChoiceField(
        label=_("Coordinating agency"),
        queryset=Agency.objects.none(),
        empty_label=EMPTY_CHOICE,
        help_text=_("One of your agencies where you coordinate or administer. It manages the workspace."),
    )
    agencies = forms.ModelMultipleChoiceField(
        label=_("Further agencies at the table"),
        queryset=Agency.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Their staff see the workspace at once. You can add or remove agencies later."),
    )

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        coordinating = selectors.agencies_for_new_workspace(actor)
        field = cast(forms.ModelChoiceField, self.fields["coordinator_agency"])
        field.queryset = coordinating
        if len(coordinating) == 1:
            field.initial = coordinating[0].pk
        cast(forms.ModelMultipleChoiceField, self.fields["agencies"]).queryset = selectors.agencies_to_invite()


class WorkspaceForm(forms.ModelForm):
    required_css_class = "required"

    class Meta:
        model = Workspace
        fields = ["name", "purpose", "is_archived"]
        help_texts = {"is_archived": _("An archived workspace stays readable but is listed apart.")}


class WorkspaceAddAgencyForm(HubForm):
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=Agency.objects.none(), empty_label=EMPTY_CHOICE)

    def __init__(self, *args: Any, addable: QuerySet[Agency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["agency"]).queryset = addable
