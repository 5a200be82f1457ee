from django.urls import path

from messaging.consumers import HubConsumer

websocket_urlpatterns = [path("ws/", HubConsumer.as_asgi())]
