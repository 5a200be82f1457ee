"""Shared pieces of the REST API: error handling, strict input, the access-policy permission.

The API writes only through services. Its serializers therefore validate input and
never save; the permission asks ``hub.access`` about object actions, so that a
visible object the actor may not act on answers 403 and an invisible one 404.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from hub import access

if TYPE_CHECKING:
    from drf_spectacular.utils import Direction

    from agencies.models import User

# The error answers every endpoint documents in the OpenAPI schema.
NOT_FOUND = OpenApiResponse(description=_("Not found, or not visible to you."))
FORBIDDEN = OpenApiResponse(description=_("Visible to you, but you may not do this."))
BAD_REQUEST = OpenApiResponse(description=_("Invalid input; the body maps field names to messages."))
UNAUTHORISED = OpenApiResponse(description=_("Not signed in: send a token or a session cookie."))
NO_SUCH_PAGE = OpenApiResponse(description=_("No such page of the list."))
BAD_FILTER = OpenApiResponse(description=_("Invalid filter; the body maps parameter names to messages."))


def request_actor(request: Request) -> User:
    """The user behind an API call: the views run after IsAuthenticated, so never the anonymous one."""
    return cast("User", request.user)


# More unknown keys than this are not all echoed back; one is enough to fix the request.
_MAX_REPORTED_UNKNOWN = 10


def with_scopes(view: Any, context: Mapping[str, Any]) -> dict[str, Any]:
    """The serializer context, with the view's ``scopes()`` (the rows ids in a request body may
    name) where a body is read: not for the schema generator, which has no user, and not for
    reads, where building them cost the referral list a tenth of its time. Views whose reads
    parse ids (housing's matching takes a household from the query) keep them for every method."""
    if getattr(view, "swagger_fake_view", False) or view.request.method in SAFE_METHODS:
        return dict(context)
    return {**context, **view.scopes()}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Services raise Django's ValidationError; the API answers it as a 400 with field messages."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail: Any = {
                ("non_field_errors" if field == "__all__" else field): messages
                for field, messages in exc.message_dict.items()
            }
        else:
            detail = {"non_field_errors": exc.messages}
        exc = serializers.ValidationError(detail)
    return drf_exception_handler(exc, context)


class StrictInputMixin:
    """Input serializer behaviour: unknown keys are refused, nothing is ever saved.

    A key that names no field of the serializer answers 400 (``{"key": ["Unknown
    field."]}``), so a typo or a guessed field such as ``group`` cannot pass
    unnoticed. A key that names a read-only field (``id``, ``is_active``,
    ``agency``, ...) is ignored as DRF always does, so that a client may send back
    what it read. ``save`` is disabled: views hand ``validated_data`` to a service.
    """

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {key: [_("Unknown field.")] for key in unknown[:_MAX_REPORTED_UNKNOWN]}
                )
        return super().to_internal_value(data)  # type: ignore[misc]

    def save(self, **kwargs: Any) -> Any:
        raise AssertionError("API serializers only validate; writes go through the services.")


class StrictInputSchema(OpenApiSerializerExtension):
    """Tell the schema what the server enforces: request bodies take no unknown properties."""

    target_class = StrictInputMixin
    match_subclasses = True

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> dict[str, Any]:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


class AccessPolicy(BasePermission):
    """Object actions decided by ``hub.access``: 404 when invisible, 403 when visible but not allowed.

    A view lists in ``access_actions`` which of its actions need which access
    action (``{"partial_update": "change"}``); reads need nothing beyond the
    visibility that the view's queryset already applies.
    """

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        wanted = getattr(view, "access_actions", {}).get(getattr(view, "action", None))
        if wanted is not None and isinstance(obj, models.Model):
            access.require(request.user, wanted, obj)
        return True


class HubAutoSchema(AutoSchema):
    """Documents the answers every endpoint of a kind gives, so that clients (and the schema
    tests) meet no undocumented status code:

    - 401 where signing in is required;
    - 404 on every path with an object id (missing and invisible objects alike);
    - 404 for a page past the end of a paginated list, 400 for an invalid filter of a list.

    A read-only string field keeps the empty string that its model allows (a blank e-mail
    address, video link or previous status): DRF drops ``allow_blank`` from read-only fields,
    which would make the schema promise a well-formed address or an enum value where the
    answer is "".
    """

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        extra: dict[str, OpenApiResponse] = {}
        permissions = self.view.permission_classes
        if any(isinstance(permission, type) and issubclass(permission, IsAuthenticated) for permission in permissions):
            extra["401"] = UNAUTHORISED
        if "{" in self.path:
            extra["404"] = NOT_FOUND
        if self.method == "GET" and self._is_list_view():
            if self._get_paginator() is not None:
                extra.setdefault("404", NO_SUCH_PAGE)
            if self._get_filter_parameters():
                extra["400"] = BAD_FILTER
        for code, response in extra.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return dict(sorted(responses.items()))

    def _map_serializer_field(self, field: Any, direction: Direction, bypass_extensions: bool = False) -> Any:
        if (
            field.read_only
            and isinstance(field, serializers.CharField | serializers.ChoiceField)
            and not getattr(field, "allow_blank", False)
            and _blank_in_model(field)
        ):
            field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)


def _blank_in_model(field: serializers.Field[Any, Any, Any, Any]) -> bool:
    """Whether the model field behind a serializer field may hold the empty string."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return False
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return False
    return bool(getattr(model_field, "blank", False)) and isinstance(model_field, models.CharField | models.TextField)


class SingleObjectSchema(HubAutoSchema):
    """For a view that answers one object under a router's "list" route, such as /me/."""

    def _is_list_view(self, serializer: Any = None) -> bool:
        return False


class HubAPIMixin:
    """Common settings of the hub's API views.

    JSON only: the browsable API's inline script would be blocked by the hub's
    Content-Security-Policy anyway, and /api/docs/ serves the interactive docs.
    No OPTIONS metadata either (405): DRF describes every action of a route with
    one serializer, which misleads where input and output differ; the OpenAPI
    schema at /api/schema/ is the description.
    """

    renderer_classes: Sequence[type[BaseRenderer]] = [JSONRenderer]
    metadata_class: Any = None
    access_actions: ClassVar[dict[str, str]] = {}
