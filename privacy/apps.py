from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Data protection")

    def ready(self) -> None:
        from django.core import checks

        from privacy.retention import check_settings

        checks.register(check_settings, checks.Tags.security)
