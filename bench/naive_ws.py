"""The websocket as Channels' tutorial builds it, for ``bench/soak.py --channel-layer core-per-socket``.

Each socket has a layer channel of its own and adds it to every group its user may join
(``hub.access.groups_for``); every group message goes through the layer to every socket's
channel and is sent as it comes. Nothing else of the hub's consumer: no fan-out per process, no
once-per-socket check of the event id, no catch-up (``hello`` is answered ``ready`` at once), no
periodic check of sessions and access. The same ASGI stack as ``hub.asgi`` otherwise (origin
check, session and user). Reachable only from the benchmark; ``hub.asgi`` does not know it.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.db import database_sync_to_async  # noqa: E402
from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from hub import access  # noqa: E402
from hub.models import Event  # noqa: E402
from messaging.consumers import CLOSE_UNAUTHENTICATED  # noqa: E402


def newest_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


class ChannelPerSocketConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.joined = await database_sync_to_async(access.groups_for)(user)
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "hello":
            newest = await database_sync_to_async(newest_event_id)()
            await self.send_json({"type": "ready", "last_event_id": newest})

    async def hub_event(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "event", "event": message["event"]})


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([path("ws/", ChannelPerSocketConsumer.as_asgi())]))
        ),
    }
)
