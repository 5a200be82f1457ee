"""API of comment threads on referrals, persons and flats.

A thread answers the comments the caller may read (``hub.access.visible``): on a person only those of
the data categories the caller's agencies see. A target the caller cannot see answers 404; a read-only
member may read but not write (403, before the body is read). Writes go through ``messaging.services``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from agencies.api.serializers import AgencyBriefSerializer, UserBriefSerializer
from housing.models import Listing
from hub import access
from hub.api import BAD_REQUEST, FORBIDDEN, NOT_FOUND, HubAPIMixin, StrictInputMixin, request_actor
from messaging import selectors, services
from messaging.models import COMMENT_MAX_LENGTH, Comment
from privacy import reads
from referrals.models import Category, Person, Referral


class CommentSerializer(serializers.ModelSerializer[Comment]):
    """A comment as its readers see it; a deleted one keeps its place with an empty body."""

    target = serializers.CharField(
        source="target_kind", read_only=True, help_text=_('"referral", "person" or "listing".')
    )
    author = UserBriefSerializer(read_only=True)
    agency = AgencyBriefSerializer(read_only=True, help_text=_("The agency the author wrote for."))
    mentions = UserBriefSerializer(many=True, read_only=True)
    is_deleted = serializers.BooleanField(read_only=True)
    may_change = serializers.SerializerMethodField(help_text=_("Whether you may edit or delete it (its author)."))

    class Meta:
        model = Comment
        fields = [
            "id",
            "target",
            "referral",
            "person",
            "listing",
            "category",
            "author",
            "agency",
            "body",
            "mentions",
            "created_at",
            "edited_at",
            "deleted_at",
            "is_deleted",
            "may_change",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Comment) -> dict[str, Any]:
        # A comment on a person discloses its category (the read-access log, privacy.reads).
        if instance.person_id is not None and not instance.is_deleted:
            reads.note(instance.person_id, {instance.category})
        return super().to_representation(instance)

    def get_may_change(self, comment: Comment) -> bool:
        # Every comment served is one the caller reads, so authorship decides (hub.access).
        return comment.author_id == self.context["request"].user.pk and not comment.is_deleted


class BodyField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        help_text = _("The text; @username mentions a colleague, who must be able to read the comment.")
        super().__init__(max_length=COMMENT_MAX_LENGTH, help_text=help_text, **kwargs)


class CommentInputSerializer(StrictInputMixin, serializers.Serializer[Any]):
    body = BodyField()


class PersonCommentInputSerializer(StrictInputMixin, serializers.Serializer[Any]):
    body = BodyField()
    category = serializers.ChoiceField(
        choices=Category.choices,
        help_text=_("The data category the comment is about; only agencies that see it read the comment."),
    )


class CommentUpdateSerializer(StrictInputMixin, serializers.Serializer[Any]):
    body = BodyField()


class TargetCommentsView(HubAPIMixin, generics.ListAPIView[Comment]):
    """The thread of one referral, person or flat, oldest first, and new comments on it."""

    permission_classes = [IsAuthenticated]
    serializer_class = CommentSerializer
    filter_backends: list[Any] = []
    target_model: type[Model]
    input_serializer: type[serializers.Serializer[Any]]

    def get_target(self) -> Model:
        if not hasattr(self, "_target"):
            self._target = access.get_visible_or_404(
                request_actor(self.request), self.target_model, pk=self.kwargs["pk"]
            )
            if isinstance(self._target, Referral):
                # The thread is about the referral of a person (the read-access log, privacy.reads).
                reads.note(self._target.person_id, {reads.REFERRALS})
        return self._target

    def get_queryset(self) -> QuerySet[Comment]:
        if getattr(self, "swagger_fake_view", False):  # schema generation runs without a user
            return Comment.objects.none()
        return selectors.comment_thread(request_actor(self.request), self.get_target())

    def post(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        target = self.get_target()
        if not access.can(actor, "comment", target):
            raise PermissionDenied
        body = self.input_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        comment = services.comment_create(actor=actor, target=target, **body.validated_data)
        fresh = selectors.comment_detail(actor, comment.pk)
        return Response(CommentSerializer(fresh, context=self.get_serializer_context()).data, status.HTTP_201_CREATED)


@extend_schema(tags=["comments"])
class ReferralCommentsView(TargetCommentsView):
    target_model = Referral
    input_serializer = CommentInputSerializer

    @extend_schema(
        summary=_("Comments on a referral, oldest first"), responses={200: CommentSerializer(many=True), 404: NOT_FOUND}
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary=_("Comment on a referral (caseworkers and coordinators of either side)"),
        request=CommentInputSerializer,
        responses={201: CommentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


@extend_schema(tags=["comments"])
class PersonCommentsView(TargetCommentsView):
    target_model = Person
    input_serializer = PersonCommentInputSerializer

    @extend_schema(
        summary=_("Comments on a person in the data categories you may see, oldest first"),
        responses={200: CommentSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary=_("Comment on a person within one data category your agency sees"),
        request=PersonCommentInputSerializer,
        responses={201: CommentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


@extend_schema(tags=["comments"])
class ListingCommentsView(TargetCommentsView):
    target_model = Listing
    input_serializer = CommentInputSerializer

    @extend_schema(
        summary=_("Comments on a flat, oldest first"), responses={200: CommentSerializer(many=True), 404: NOT_FOUND}
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary=_("Comment on a flat (caseworkers, coordinators and housing officers of the agencies that see it)"),
        request=CommentInputSerializer,
        responses={201: CommentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


@extend_schema(tags=["comments"])
class CommentDetailView(HubAPIMixin, generics.GenericAPIView[Comment]):
    """One comment; its author edits or deletes it."""

    permission_classes = [IsAuthenticated]
    serializer_class = CommentSerializer

    def get_queryset(self) -> QuerySet[Comment]:
        return Comment.objects.none()  # one comment at a time, through the selector

    def comment(self) -> Comment:
        return selectors.comment_detail(request_actor(self.request), self.kwargs["pk"])

    def answer(self, comment: Comment) -> Response:
        fresh = selectors.comment_detail(request_actor(self.request), comment.pk)
        return Response(CommentSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(summary=_("One comment"), responses={200: CommentSerializer, 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        return Response(CommentSerializer(self.comment(), context=self.get_serializer_context()).data)

    @extend_schema(
        summary=_("Change the text of your comment"),
        request=CommentUpdateSerializer,
        responses={200: CommentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def patch(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        comment = self.comment()
        access.require(actor, "change", comment)
        body = CommentUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self.answer(services.comment_update(actor=actor, comment=comment, **body.validated_data))

    @extend_schema(
        summary=_("Delete your comment; the thread keeps its place without the text"),
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def delete(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        comment = self.comment()
        access.require(actor, "delete", comment)
        services.comment_delete(actor=actor, comment=comment)
        return Response(status=status.HTTP_204_NO_CONTENT)
