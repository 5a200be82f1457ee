"""API of persons, households, consents, shares and referrals.

Reads come from ``referrals.selectors`` and ``hub.access``: a row the actor may not see
answers 404 like a missing one, and an id in a request body that names such a row reads
as nonexistent (400). Writes validate the body with a strict serializer and hand
``validated_data`` to ``referrals.services``, which check permission again, audit and
publish; the answer is the object re-read through the actor's own scope.

Field minimisation is the heart of it: a person is serialized with the fields of the data
categories the actor may see (``hub.access.person_categories``) and nothing else. Fields
of other categories are left out of the answer, never sent empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.serializers import BaseSerializer

from agencies.api.serializers import AgencyBriefSerializer, UserBriefSerializer, VisibleAgencyField
from agencies.api.serializers import VisibleAgencyListField as AgencyListField
from agencies.models import Agency, User
from hub import access
from hub.api import (
    BAD_REQUEST,
    FORBIDDEN,
    NOT_FOUND,
    AccessPolicy,
    HubAPIMixin,
    StrictInputMixin,
    request_actor,
    with_scopes,
)
from hub.pagination import OnePassPagination
from privacy import reads
from referrals import selectors, services
from referrals.filters import ConsentFilterSet, PersonFilterSet, ReferralFilterSet, ShareFilterSet
from referrals.models import (
    CATEGORY_FIELDS,
    Category,
    Consent,
    Household,
    LegalBasis,
    Measure,
    Outcome,
    OutcomeReason,
    Person,
    Referral,
    ReferralStatusChange,
    Share,
    Urgency,
)

if TYPE_CHECKING:
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.utils import Direction


# Upper bounds of lists in one request: a county has a few dozen agencies, a household a few persons.
MAX_AGENCIES_PER_REQUEST = 100
MAX_MEMBERS_PER_REQUEST = 30
# The inbox answers the most pressing referrals of each list; the lists page through /referrals/.
INBOX_LIMIT = 100

# A person's fields by category, in the order of the model.
CATEGORY_FIELD_NAMES: tuple[str, ...] = tuple(field for fields in CATEGORY_FIELDS.values() for field in fields)
# Shown with every visible person, whatever the categories: who they are to the hub and who is responsible.
ALWAYS_SHOWN = frozenset({"id", "reference", "categories", "responsible_agency", "responsible_since"})

# The referral steps a client takes through /transition/: expiry is the system's, redirection has its own route.
STEP_CHOICES = [
    ("send", _("send")),
    ("receive", _("confirm receipt")),
    ("accept", _("accept")),
    ("decline", _("decline")),
    ("waitlist", _("put on the waiting list")),
    ("start", _("start")),
    ("complete", _("complete")),
    ("fail", _("mark as failed")),
    ("withdraw", _("withdraw")),
]


def _require_case_work(actor: User) -> None:
    """Only caseworkers and coordinators write case data; the others are refused before their input is read."""
    if not access.agency_ids(actor, *access.CASE_ROLES):
        raise PermissionDenied


# Fields -----------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class ScopedIdField(serializers.PrimaryKeyRelatedField[Any]):
    """An id among the rows in ``context[scope]``; any other id reads as nonexistent."""

    def __init__(self, *, scope: str, **kwargs: Any) -> None:
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        rows = self.context.get(self.scope)
        return rows if rows is not None else Person.objects.none()

    def to_internal_value(self, data: Any) -> Any:
        # Only whole numbers: the database would read 1.5 or True as row 1.
        value: Any = int(data) if isinstance(data, str) and data.isascii() and data.isdecimal() else data
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail("incorrect_type", data_type=type(value).__name__)
        return super().to_internal_value(value)


class ScopedIdListField(serializers.ListField):
    """Ids among ``context[scope]``, resolved in one query; duplicates collapse."""

    default_error_messages = {
        "does_not_exist": _('Invalid pk "{pk_value}" - object does not exist.'),
    }

    def __init__(self, *, scope: str, **kwargs: Any) -> None:
        self.scope = scope
        kwargs.setdefault("child", serializers.IntegerField(min_value=1))
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[Any]:
        # The length is checked before the items, so a huge list costs nothing.
        if isinstance(data, list | tuple) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        ids: list[int] = list(dict.fromkeys(super().to_internal_value(data)))
        rows = self.context.get(self.scope)
        found = {row.pk: row for row in (rows.filter(pk__in=ids) if rows is not None else [])}
        for pk in ids:
            if pk not in found:
                self.fail("does_not_exist", pk_value=pk)
        return [found[pk] for pk in ids]


class CategoriesField(serializers.ListField):
    """Data categories as a list of codes; identity always travels with a share."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", serializers.ChoiceField(choices=Category.choices))
        kwargs.setdefault("max_length", len(Category.choices))
        kwargs.setdefault("help_text", _("Data categories; identity is always included."))
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, list | tuple) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        values = set(super().to_internal_value(data))
        return [category for category in Category.values if category in values]


class PDFRenderer(BaseRenderer):
    """Lets a client ask for the signed document with ``Accept: application/pdf``."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> Any:
        # The document itself goes out as a FileResponse; only errors pass through here.
        return JSONRenderer().render(data)


class NotesReads:
    """For serializers of a record about a person: every answer that shows one notes the read
    (``privacy.reads``) of ``read_kinds``, whichever endpoint, list or action serializes it."""

    read_kinds: ClassVar[frozenset[str]]

    def to_representation(self, instance: Any) -> Any:
        reads.note(instance.person_id, self.read_kinds)
        return super().to_representation(instance)  # type: ignore[misc]


# Persons ----------------------------------------------------------------------------------


class HouseholdRefSerializer(serializers.ModelSerializer[Household]):
    class Meta:
        model = Household
        fields = ["id", "reference"]
        read_only_fields = fields


class PersonRefSerializer(serializers.ModelSerializer[Person]):
    """A person by id and case reference, the pseudonym used where the name need not appear."""

    class Meta:
        model = Person
        fields = ["id", "reference"]
        read_only_fields = fields


class PersonSerializer(serializers.ModelSerializer[Person]):
    """A person as the actor may see them: only the fields of the categories in ``categories``.

    The fields of any other category are absent from the object, not null. The holders of
    the person's file see every category; a receiving agency the categories its active
    shares cover.
    """

    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices),
        read_only=True,
        help_text=_("The data categories you may see of this person; the other fields are left out."),
    )
    responsible_agency = AgencyBriefSerializer(read_only=True)
    household = HouseholdRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Person
        fields = ["id", "reference", "categories", "responsible_agency", "responsible_since", *CATEGORY_FIELD_NAMES]
        read_only_fields = fields

    def categories_of(self, person: Person) -> frozenset[str]:
        known: dict[int, frozenset[str]] = self.context.get("person_categories", {})
        if person.pk in known:
            return known[person.pk]
        # Not computed in advance (a single object): ask the policy.
        return access.person_categories(self.context["request"].user, person)

    def to_representation(self, instance: Person) -> dict[str, Any]:
        categories = self.categories_of(instance)
        shown = ALWAYS_SHOWN | selectors.visible_field_names(categories)
        data: dict[str, Any] = {}
        for field in self._readable_fields:
            name = field.field_name
            if name not in shown:
                continue
            if name == "categories":
                data[name] = [category for category in Category.values if category in categories]
                continue
            attribute = field.get_attribute(instance)
            data[name] = None if attribute is None else field.to_representation(attribute)
        reads.note(instance.pk, [c for c, names in CATEGORY_FIELDS.items() if c in categories and data.keys() & names])
        return data


class PersonBriefSerializer(PersonSerializer):
    """A household member: reference, and the name where identity is visible."""

    class Meta(PersonSerializer.Meta):
        fields = ["id", "reference", "first_name", "last_name"]
        read_only_fields = fields


class MinimisedPersonSchema(OpenApiSerializerExtension):
    """Tell the schema that the category fields of a person may be absent."""

    target_class = PersonSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> dict[str, Any]:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        minimised = set(CATEGORY_FIELD_NAMES)
        required = [name for name in schema.get("required", []) if name not in minimised]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        return schema


class PersonWriteSerializer(StrictInputMixin, serializers.ModelSerializer[Person]):
    """The fields a holder of the person's file may change. Reference and responsibility are read-only."""

    household = ScopedIdField(
        scope="households", required=False, allow_null=True, help_text=_("A household you can see, or null.")
    )
    responsible_agency = serializers.PrimaryKeyRelatedField[Agency](
        read_only=True, help_text=_("Changes only by a transfer of responsibility.")
    )
    categories = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Person
        fields = ["id", "reference", "categories", "responsible_agency", *services.PERSON_FIELDS]
        read_only_fields = ["id", "reference", "categories", "responsible_agency"]


class PersonCreateSerializer(PersonWriteSerializer):
    """A new person, registered for one of your agencies, which opens the case file and is responsible."""

    agency = VisibleAgencyField(help_text=_("One of your agencies where you do case work."))

    class Meta(PersonWriteSerializer.Meta):
        fields = ["agency", *PersonWriteSerializer.Meta.fields]


class PersonMergeSerializer(StrictInputMixin, serializers.Serializer[Person]):
    duplicate = ScopedIdField(
        scope="persons", help_text=_("The duplicate record; its files, consents, shares and referrals move over.")
    )


class CaseViewSet[M: models.Model](HubAPIMixin, viewsets.GenericViewSet[M]):
    permission_classes = [IsAuthenticated, AccessPolicy]
    # Non-numeric ids never reach a view: the URL does not match and answers 404.
    lookup_value_regex = "[0-9]+"
    lookup_value_converter = "int"

    def refetch(self, pk: int) -> M:
        """The object as the actor's list shows it, after a write (re-checks visibility too)."""
        return get_object_or_404(self.get_queryset(), pk=pk)

    def scopes(self) -> dict[str, QuerySet[Any]]:
        """What ids in a request body may name: only rows the actor sees; any other reads as nonexistent."""
        actor = request_actor(self.request)
        return {
            "persons": access.visible(actor, Person),
            "agencies": access.visible(actor, Agency),
            "households": access.visible(actor, Household),
            "consents": access.visible(actor, Consent),
            "measures": access.visible(actor, Measure),
        }

    def get_serializer_context(self) -> dict[str, Any]:
        return with_scopes(self, super().get_serializer_context())


@extend_schema(tags=["persons"])
@extend_schema_view(
    list=extend_schema(
        summary=_("Persons you can see: those your agencies hold, and those shared with them"),
        responses={200: PersonSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary=_("One person, with the fields of the categories you may see"),
        responses={200: PersonSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary=_("Register a person for one of your agencies; it opens the case file"),
        request=PersonCreateSerializer,
        responses={201: PersonSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary=_("Change a person's data (the agencies holding the file)"),
        request=PersonWriteSerializer,
        responses={200: PersonSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    merge=extend_schema(
        summary=_("Merge a duplicate record into this person (holders of both files)"),
        request=PersonMergeSerializer,
        responses={200: PersonSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class PersonViewSet(CaseViewSet[Person]):
    serializer_class = PersonSerializer
    filterset_class = PersonFilterSet
    pagination_class = OnePassPagination
    access_actions: ClassVar[dict[str, str]] = {"partial_update": "change", "merge": "merge"}

    def get_queryset(self) -> QuerySet[Person]:
        return selectors.person_list(request_actor(self.request))

    def show(self, persons: Iterable[Person]) -> dict[str, Any]:
        """The serializer context with the categories of every person on the page, in two queries."""
        return {
            **self.get_serializer_context(),
            "person_categories": access.person_categories_many(request_actor(self.request), persons),
        }

    def list(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        persons = list(page if page is not None else queryset)
        data = PersonSerializer(persons, many=True, context=self.show(persons)).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request: Request, pk: int) -> Response:
        person = self.get_object()
        return Response(PersonSerializer(person, context=self.show([person])).data)

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        access.require(actor, "create", Person)
        context = {
            **self.get_serializer_context(),
            # Persons are registered for an agency where the actor does case work.
            "agencies": Agency.objects.filter(pk__in=access.agency_ids(actor, *access.CASE_ROLES)),
        }
        serializer = PersonCreateSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        person = services.person_create(actor=actor, **serializer.validated_data)
        person = self.refetch(person.pk)
        return Response(PersonSerializer(person, context=self.show([person])).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: int) -> Response:
        person = self.get_object()
        serializer = PersonWriteSerializer(
            person, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        services.person_update(actor=request_actor(request), person=person, **serializer.validated_data)
        person = self.refetch(person.pk)
        return Response(PersonSerializer(person, context=self.show([person])).data)

    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: int) -> Response:
        keep = self.get_object()
        serializer = PersonMergeSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.person_merge(actor=request_actor(request), keep=keep, duplicate=serializer.validated_data["duplicate"])
        person = self.refetch(keep.pk)
        return Response(PersonSerializer(person, context=self.show([person])).data)


# Households -------------------------------------------------------------------------------


class HouseholdSerializer(serializers.ModelSerializer[Household]):
    """A household with those of its members you can see; others are not named or counted."""

    members = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = ["id", "reference", "name", "created_at", "members"]
        read_only_fields = fields

    @extend_schema_field(PersonBriefSerializer(many=True))
    def get_members(self, household: Household) -> Any:
        # Prefetched through the actor's scope by the view: only visible members are there.
        return PersonBriefSerializer(household.members.all(), many=True, context=self.context).data


class HouseholdCreateSerializer(StrictInputMixin, serializers.ModelSerializer[Household]):
    """A new household with its first members, whose files your agency holds."""

    members = ScopedIdListField(
        scope="persons",
        min_length=1,
        max_length=MAX_MEMBERS_PER_REQUEST,
        help_text=_(
            "Ids of persons whose files your agency holds; they join the household. "
            "A household is seen through its members, so it needs one from the start."
        ),
    )

    class Meta:
        model = Household
        fields = ["name", "members"]


@extend_schema(tags=["households"])
@extend_schema_view(
    list=extend_schema(summary=_("Households of the persons you can see")),
    retrieve=extend_schema(summary=_("One household"), responses={200: HouseholdSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary=_("Open a household with its first members"),
        request=HouseholdCreateSerializer,
        responses={201: HouseholdSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class HouseholdViewSet(CaseViewSet[Household]):
    serializer_class = HouseholdSerializer

    def get_queryset(self) -> QuerySet[Household]:
        actor = request_actor(self.request)
        members = selectors.person_list(actor)
        return (
            access.visible(actor, Household)
            .prefetch_related(Prefetch("members", queryset=members))
            .order_by("name", "pk")
        )

    def show(self, households: Iterable[Household]) -> dict[str, Any]:
        members = [person for household in households for person in household.members.all()]
        return {
            **self.get_serializer_context(),
            "person_categories": access.person_categories_many(request_actor(self.request), members),
        }

    def list(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        households = list(page if page is not None else queryset)
        data = HouseholdSerializer(households, many=True, context=self.show(households)).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request: Request, pk: int) -> Response:
        household = self.get_object()
        return Response(HouseholdSerializer(household, context=self.show([household])).data)

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        # Opening a household is part of registering persons.
        access.require(actor, "create", Person)
        serializer = HouseholdCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        members: list[Person] = serializer.validated_data["members"]
        for person in members:
            access.require(actor, "change", person)
        # Both steps or neither: a household without members would be invisible even to its creator.
        with transaction.atomic():
            household = services.household_create(actor=actor, name=serializer.validated_data["name"])
            for person in members:
                services.person_update(actor=actor, person=person, household=household)
        household = self.refetch(household.pk)
        body = HouseholdSerializer(household, context=self.show([household])).data
        return Response(body, status=status.HTTP_201_CREATED)


# Consents ---------------------------------------------------------------------------------


class ConsentSerializer(NotesReads, serializers.ModelSerializer[Consent]):
    """A recorded consent. Recipients are listed as far as you can see them."""

    read_kinds = frozenset({reads.CONSENTS})

    person = PersonRefSerializer(read_only=True)
    categories = CategoriesField(read_only=True)
    recipients = AgencyBriefSerializer(many=True, read_only=True)
    recorded_by = UserBriefSerializer(read_only=True)
    recorded_by_agency = AgencyBriefSerializer(read_only=True)
    has_document = serializers.SerializerMethodField(help_text=_("A signed PDF is on file (see /document/)."))
    valid_today = serializers.SerializerMethodField(help_text=_("Started, not ended, not revoked."))

    class Meta:
        model = Consent
        fields = [
            "id",
            "person",
            "categories",
            "recipients",
            "purpose",
            "valid_from",
            "valid_until",
            "text_version",
            "has_document",
            "valid_today",
            "recorded_by",
            "recorded_by_agency",
            "recorded_at",
            "revoked_at",
        ]
        read_only_fields = fields

    def get_has_document(self, consent: Consent) -> bool:
        return bool(consent.document)

    def get_valid_today(self, consent: Consent) -> bool:
        return consent.is_valid_on(timezone.localdate())


class ConsentCreateSerializer(StrictInputMixin, serializers.ModelSerializer[Consent]):
    """What the person agreed to. Send it as multipart/form-data to attach the signed PDF."""

    person = ScopedIdField(scope="persons", help_text=_("A person whose file your agency holds."))
    categories = CategoriesField()
    recipients = AgencyListField(
        max_length=MAX_AGENCIES_PER_REQUEST, help_text=_("Ids of the receiving agencies, among those you can see.")
    )
    valid_from = serializers.DateField(required=False, help_text=_("Default: today."))
    valid_until = serializers.DateField(required=False, allow_null=True)

    class Meta:
        model = Consent
        fields = ["person", "categories", "recipients", "purpose", "text_version", "valid_from", "valid_until"]


class ConsentUploadSerializer(ConsentCreateSerializer):
    document = serializers.FileField(
        required=False,
        allow_empty_file=False,
        use_url=False,
        help_text=_("The signed consent: a PDF of at most 10 MB."),
    )

    class Meta(ConsentCreateSerializer.Meta):
        fields = [*ConsentCreateSerializer.Meta.fields, "document"]


@extend_schema(tags=["consents"])
@extend_schema_view(
    list=extend_schema(summary=_("Consents of persons you hold, and those naming your agencies")),
    retrieve=extend_schema(summary=_("One consent"), responses={200: ConsentSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary=_("Record a person's consent, with the signed PDF if sent as multipart/form-data"),
        request={"application/json": ConsentCreateSerializer, "multipart/form-data": ConsentUploadSerializer},
        responses={201: ConsentSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    revoke=extend_schema(
        summary=_("Revoke a consent: the shares resting on it end at once and their recipients are told"),
        request=None,
        responses={200: ConsentSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    document=extend_schema(
        summary=_("The signed consent document (PDF)"),
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: NOT_FOUND},
    ),
)
class ConsentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CaseViewSet[Consent]):
    serializer_class = ConsentSerializer
    filterset_class = ConsentFilterSet
    access_actions: ClassVar[dict[str, str]] = {"revoke": "revoke"}

    def get_queryset(self) -> QuerySet[Consent]:
        actor = request_actor(self.request)
        return (
            access.visible(actor, Consent)
            .select_related("person", "recorded_by", "recorded_by_agency")
            .prefetch_related(Prefetch("recipients", queryset=access.visible(actor, Agency).order_by("name")))
            .order_by("-recorded_at", "-pk")
        )

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        _require_case_work(actor)
        multipart = (request.content_type or "").startswith("multipart/")
        serializer_class = ConsentUploadSerializer if multipart else ConsentCreateSerializer
        serializer = serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        consent = services.consent_record(actor=actor, **serializer.validated_data)
        body = ConsentSerializer(self.refetch(consent.pk), context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: int) -> Response:
        consent = self.get_object()
        services.consent_revoke(actor=request_actor(request), consent=consent)
        return Response(self.get_serializer(self.refetch(consent.pk)).data)

    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PDFRenderer])
    def document(self, request: Request, pk: int) -> FileResponse:
        consent = self.get_object()
        if not consent.document:
            raise Http404
        reads.note(consent.person_id, {Category.IDENTITY, reads.CONSENTS})
        try:
            handle = consent.document.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"consent-{consent.person.reference}-{consent.pk}.pdf",
            content_type="application/pdf",
        )


# Shares -----------------------------------------------------------------------------------


class ShareSerializer(NotesReads, serializers.ModelSerializer[Share]):
    """One agency lets another see named categories of a person, on a legal basis."""

    read_kinds = frozenset({reads.CONSENTS})

    person = PersonRefSerializer(read_only=True)
    from_agency = AgencyBriefSerializer(read_only=True)
    to_agency = AgencyBriefSerializer(read_only=True)
    categories = CategoriesField(read_only=True)
    created_by = UserBriefSerializer(read_only=True)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = Share
        fields = [
            "id",
            "person",
            "from_agency",
            "to_agency",
            "categories",
            "legal_basis",
            "consent",
            "basis_reason",
            "created_by",
            "created_at",
            "ended_at",
            "is_active",
        ]
        read_only_fields = fields

    def get_is_active(self, share: Share) -> bool:
        return share.ended_at is None


class BasisFieldsMixin(serializers.Serializer[Any]):
    """The legal basis of a share or referral; ``referrals.services.check_legal_basis`` judges it."""

    categories = CategoriesField()
    legal_basis = serializers.ChoiceField(
        choices=LegalBasis.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("consent (then name the consent) or a statutory basis (then give the reason)."),
    )
    consent = ScopedIdField(
        scope="consents", required=False, allow_null=True, default=None, help_text=_("The consent this rests on.")
    )
    basis_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text=_("Why the statutory basis applies.")
    )


class ShareCreateSerializer(StrictInputMixin, BasisFieldsMixin):
    person = ScopedIdField(scope="persons", help_text=_("A person whose file your agency holds."))
    to_agency = VisibleAgencyField(help_text=_("The receiving agency, among those you can see."))


@extend_schema(tags=["shares"])
@extend_schema_view(
    list=extend_schema(summary=_("Shares your agencies gave or received")),
    retrieve=extend_schema(summary=_("One share"), responses={200: ShareSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary=_("Share named categories of a person with another agency, on a legal basis"),
        request=ShareCreateSerializer,
        responses={201: ShareSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    end=extend_schema(
        summary=_("End a share (the giving agency); the receiver's access ends at once"),
        request=None,
        responses={200: ShareSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class ShareViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CaseViewSet[Share]):
    serializer_class = ShareSerializer
    filterset_class = ShareFilterSet
    access_actions: ClassVar[dict[str, str]] = {"end": "end"}

    def get_queryset(self) -> QuerySet[Share]:
        return (
            access.visible(request_actor(self.request), Share)
            .select_related("person", "from_agency", "to_agency", "created_by")
            .order_by("-created_at", "-pk")
        )

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        _require_case_work(actor)
        serializer = ShareCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        share = services.share_create(actor=actor, **serializer.validated_data)
        body = ShareSerializer(self.refetch(share.pk), context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: int) -> Response:
        share = self.get_object()
        services.share_end(actor=request_actor(request), share=share)
        return Response(self.get_serializer(self.refetch(share.pk)).data)


# Referrals --------------------------------------------------------------------------------


class MeasureRefSerializer(serializers.ModelSerializer[Measure]):
    class Meta:
        model = Measure
        fields = ["id", "title"]
        read_only_fields = fields


class ReferralSerializer(NotesReads, serializers.ModelSerializer[Referral]):
    """A referral as both sides see it: the person by reference, status and outcome (the closed loop)."""

    read_kinds = frozenset({reads.REFERRALS})

    person = PersonRefSerializer(read_only=True)
    from_agency = AgencyBriefSerializer(read_only=True)
    to_agency = AgencyBriefSerializer(read_only=True)
    measure = MeasureRefSerializer(read_only=True, allow_null=True)
    categories = CategoriesField(read_only=True)
    created_by = UserBriefSerializer(read_only=True)
    redirected_to = serializers.SerializerMethodField(
        help_text=_("The referral that replaced this one; shown to the sending agency only.")
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "reference",
            "person",
            "from_agency",
            "to_agency",
            "measure",
            "reason",
            "urgency",
            "categories",
            "legal_basis",
            "consent",
            "basis_reason",
            "answer_due_on",
            "status",
            "status_note",
            "outcome",
            "outcome_reason",
            "redirected_to",
            "created_by",
            "created_at",
            "sent_at",
            "answered_at",
            "closed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_redirected_to(self, referral: Referral) -> int | None:
        # The new referral goes to an agency the old receiver may not know about.
        own = access.agency_ids(self.context["request"].user)
        return referral.redirected_to_id if referral.from_agency_id in own else None


class ReferralStatusChangeSerializer(serializers.ModelSerializer[ReferralStatusChange]):
    actor = UserBriefSerializer(read_only=True, allow_null=True, help_text=_("Null: the system (expiry)."))
    agency = AgencyBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ReferralStatusChange
        fields = ["from_status", "to_status", "actor", "agency", "note", "at"]
        read_only_fields = fields


class ReferralDetailSerializer(ReferralSerializer):
    history = ReferralStatusChangeSerializer(many=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField(
        help_text=_("The steps you may take now; redirect has its own route, the others go to /transition/.")
    )

    class Meta(ReferralSerializer.Meta):
        fields = [*ReferralSerializer.Meta.fields, "history", "allowed_actions"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, referral: Referral) -> list[str]:
        return services.allowed_actions(self.context["request"].user, referral)


class ReferralCreateSerializer(StrictInputMixin, BasisFieldsMixin):
    person = ScopedIdField(scope="persons", help_text=_("A person whose file your agency holds."))
    to_agency = VisibleAgencyField(help_text=_("The receiving agency, among those you can see."))
    measure = ScopedIdField(
        scope="measures", required=False, allow_null=True, default=None, help_text=_("A measure of that agency.")
    )
    reason = serializers.CharField(max_length=4000)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    answer_due_on = serializers.DateField(help_text=_("When the receiving agency should have answered."))
    send = serializers.BooleanField(default=True, help_text=_("False keeps it as a draft."))


class ReferralTransitionSerializer(StrictInputMixin, serializers.Serializer[Referral]):
    action = serializers.ChoiceField(choices=STEP_CHOICES)
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text=_("Required to decline or fail.")
    )
    outcome = serializers.ChoiceField(
        choices=Outcome.choices, required=False, allow_blank=True, default="", help_text=_("Required to complete.")
    )
    outcome_reason = serializers.ChoiceField(
        choices=OutcomeReason.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Required when the outcome is not successful."),
    )


class ReferralRedirectSerializer(StrictInputMixin, serializers.Serializer[Referral]):
    to_agency = VisibleAgencyField(help_text=_("The agency the person is referred to instead."))
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class InboxItemSerializer(NotesReads, serializers.ModelSerializer[Referral]):
    read_kinds = frozenset({reads.REFERRALS})

    person = PersonRefSerializer(read_only=True)
    from_agency = AgencyBriefSerializer(read_only=True)
    to_agency = AgencyBriefSerializer(read_only=True)

    class Meta:
        model = Referral
        fields = ["id", "reference", "status", "urgency", "answer_due_on", "person", "from_agency", "to_agency"]
        read_only_fields = fields


class InboxListSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    results = InboxItemSerializer(
        many=True, help_text=_("The first %(limit)s, soonest due first.") % {"limit": INBOX_LIMIT}
    )


class InboxSerializer(serializers.Serializer[Any]):
    incoming = InboxListSerializer(help_text=_("Sent to your agencies and waiting for your answer."))
    outgoing = InboxListSerializer(help_text=_("Sent by your agencies and waiting for the other side."))
    overdue = InboxListSerializer(help_text=_("Either side, still unanswered after the due date."))


@extend_schema(tags=["referrals"])
@extend_schema_view(
    list=extend_schema(summary=_("Referrals your agencies sent or received")),
    retrieve=extend_schema(
        summary=_("One referral, with its history and the steps you may take"),
        responses={200: ReferralDetailSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary=_("Refer a person to another agency (or a measure); sent at once unless send is false"),
        request=ReferralCreateSerializer,
        responses={201: ReferralDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    transition=extend_schema(
        summary=_("Take one step of the referral's life (each side its own steps)"),
        request=ReferralTransitionSerializer,
        responses={200: ReferralDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    redirect=extend_schema(
        summary=_("Refer the person elsewhere instead (the sending agency); answers the new referral"),
        request=ReferralRedirectSerializer,
        responses={201: ReferralDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    inbox=extend_schema(
        summary=_("Your inbox: referrals to answer, referrals awaiting an answer, overdue ones"),
        responses={200: InboxSerializer},
    ),
)
class ReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CaseViewSet[Referral]):
    serializer_class = ReferralSerializer
    filterset_class = ReferralFilterSet
    access_actions: ClassVar[dict[str, str]] = {"redirect": "redirect"}

    def get_queryset(self) -> QuerySet[Referral]:
        queryset = selectors.referral_list(request_actor(self.request)).select_related("created_by")
        if self.action != "list":
            history = ReferralStatusChange.objects.select_related("actor", "agency").order_by("at", "id")
            queryset = queryset.prefetch_related(Prefetch("history", queryset=history))
        return queryset.order_by("-created_at", "-pk")

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return ReferralSerializer if self.action == "list" else ReferralDetailSerializer

    def answer(self, pk: int, *, code: int = status.HTTP_200_OK) -> Response:
        return Response(ReferralDetailSerializer(self.refetch(pk), context=self.get_serializer_context()).data, code)

    def create(self, request: Request) -> Response:
        actor = request_actor(request)
        _require_case_work(actor)
        serializer = ReferralCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        referral = services.referral_create(actor=actor, **serializer.validated_data)
        return self.answer(referral.pk, code=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: int) -> Response:
        actor = request_actor(request)
        referral = self.get_object()
        # Which step is wanted is in the body; someone who may take no step at all is refused before it is read.
        if not any(access.can(actor, step, referral) for step in access.REFERRAL_ACTIONS):
            raise PermissionDenied
        serializer = ReferralTransitionSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.referral_transition(actor=actor, referral=referral, **serializer.validated_data)
        return self.answer(referral.pk)

    @action(detail=True, methods=["post"])
    def redirect(self, request: Request, pk: int) -> Response:
        referral = self.get_object()
        serializer = ReferralRedirectSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        new = services.referral_redirect(actor=request_actor(request), referral=referral, **serializer.validated_data)
        return self.answer(new.pk, code=status.HTTP_201_CREATED)

    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def inbox(self, request: Request) -> Response:
        actor = request_actor(request)
        today = timezone.localdate()
        lists = {
            "incoming": selectors.inbox_incoming(actor),
            "outgoing": selectors.inbox_outgoing(actor),
            "overdue": selectors.inbox_due(actor, today).filter(answer_due_on__lt=today),
        }
        body = {
            name: {
                "count": queryset.count(),
                "results": InboxItemSerializer(queryset[:INBOX_LIMIT], many=True).data,
            }
            for name, queryset in lists.items()
        }
        return Response(body)


def register(router: BaseRouter) -> None:
    """Register this module's viewsets on the app's router."""
    router.register("persons", PersonViewSet, basename="person")
    router.register("households", HouseholdViewSet, basename="household")
    router.register("consents", ConsentViewSet, basename="consent")
    router.register("shares", ShareViewSet, basename="share")
    router.register("referrals", ReferralViewSet, basename="referral")
