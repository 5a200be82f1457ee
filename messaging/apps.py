from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Messaging and meetings")

    def ready(self) -> None:
        from hub import events
        from messaging.services import on_event

        events.listen(on_event)
