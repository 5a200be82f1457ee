from __future__ import annotations

from django import forms

from messaging.models import NotificationPreference


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["in_app", "email_referral_received", "email_answer_overdue"]
