"""People and their integration across agencies: persons, consent, shares, profiling,
plans, measures, referrals, transfers of responsibility and recognition procedures.

Who sees which part of a person is decided in ``hub.access`` by data category: an
agency holding the person in its own files (a CaseFile) sees every category; an
agency that received a Share sees the categories of its active shares, never more.
Writes go through ``referrals.services``.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency


class Category(models.TextChoices):
    """Groups of a person's data; shares and consents name categories, never single fields."""

    IDENTITY = "identity", _("Identity")
    CONTACT = "contact", _("Contact")
    RESIDENCE = "residence", _("Residence and legal status")
    LANGUAGES = "languages", _("Languages")
    EDUCATION = "education", _("Education and qualifications")
    WORK = "work", _("Work history")
    HEALTH = "health", _("Health and vulnerabilities")
    BENEFITS = "benefits", _("Benefits")
    PLAN = "plan", _("Integration plan and measures")


class LegalBasis(models.TextChoices):
    """What allows a share of social data. Consent is checked against the recorded consents."""

    CONSENT = "consent", _("Consent of the person (§ 67b SGB X)")
    SGB_X_69 = "sgb_x_69", _("§ 69 (1) no. 1 SGB X: fulfilment of a social task")
    SGB_X_71 = "sgb_x_71", _("§ 71 (2) SGB X: transfer to the immigration authority")
    SGB_II_50 = "sgb_ii_50", _("§ 50 SGB II: data transfer of the jobcenter")
    SGB_III_368 = "sgb_iii_368", _("§ 368 (2a) SGB III: cooperation for young people")
    AUFENTHG_87 = "aufenthg_87", _("§ 87 AufenthG: reporting duty to the immigration authority")


class Household(models.Model):
    """A household (Bedarfsgemeinschaft): people who live and are assessed together."""

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200, help_text=_("For example the family name."))
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return f"{self.name} ({self.reference})"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.reference:
            self.reference = new_reference("H")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def audit_label(self) -> str:
        return self.reference


def new_reference(prefix: str) -> str:
    """A short random case reference, the pseudonym used where the name must not appear."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return f"{prefix}-" + "".join(secrets.choice(alphabet) for _ in range(8))


class BenefitScheme(models.TextChoices):
    ASYLBLG = "asylblg", _("Asylum Seekers' Benefits Act (AsylbLG)")
    SGB_II = "sgb_ii", _("Basic income support (SGB II)")
    SGB_XII = "sgb_xii", _("Social assistance (SGB XII)")
    NONE = "none", _("No benefits")


class Person(models.Model):
    """The one master record of a person. Fields carry their data category in CATEGORY_FIELDS."""

    reference = models.CharField(_("case reference"), max_length=20, unique=True, editable=False)
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="members", verbose_name=_("household")
    )
    # identity
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    birth_date = models.DateField(_("date of birth"))
    nationality = models.CharField(_("nationality"), max_length=100)
    gender = models.CharField(_("gender"), max_length=40, blank=True)
    # contact
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    # residence and legal status
    arrival_date = models.DateField(_("arrival in Germany"), null=True, blank=True)
    residence_status = models.CharField(_("residence status"), max_length=200, blank=True)
    residence_permit_until = models.DateField(_("residence permit valid until"), null=True, blank=True)
    residence_obligation = models.CharField(_("residence obligation (§ 12a AufenthG)"), max_length=200, blank=True)
    # health and vulnerabilities
    health_notes = models.TextField(_("health and vulnerabilities"), blank=True, max_length=4000)
    # benefits
    benefit_scheme = models.CharField(
        _("benefits"), max_length=20, choices=BenefitScheme.choices, default=BenefitScheme.NONE
    )
    benefits_since = models.DateField(_("benefits since"), null=True, blank=True)
    # responsibility
    responsible_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="responsible_for", verbose_name=_("responsible agency")
    )
    responsible_since = models.DateField(_("responsible since"), default=timezone.localdate)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        indexes = [
            models.Index(fields=["last_name", "first_name", "birth_date"]),
            models.Index(fields=["responsible_agency"]),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.reference:
            self.reference = new_reference("P")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def audit_label(self) -> str:
        return self.reference


# Which fields of Person belong to which category: the one map that selectors,
# forms and serializers use to hide what a share does not cover.
CATEGORY_FIELDS: dict[str, tuple[str, ...]] = {
    Category.IDENTITY: ("first_name", "last_name", "birth_date", "nationality", "gender", "household"),
    Category.CONTACT: ("street", "postcode", "city", "phone", "email"),
    Category.RESIDENCE: ("arrival_date", "residence_status", "residence_permit_until", "residence_obligation"),
    Category.HEALTH: ("health_notes",),
    Category.BENEFITS: ("benefit_scheme", "benefits_since"),
}


class CaseFile(models.Model):
    """An agency holds the person in its own files and so sees every category."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="case_files")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="case_files")
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    case_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_case_files",
        verbose_name=_("case manager"),
    )

    class Meta:
        verbose_name = _("case file")
        verbose_name_plural = _("case files")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "agency"], condition=Q(closed_at=None), name="casefile_one_open_per_agency"
            )
        ]
        indexes = [models.Index(fields=["agency", "closed_at"])]

    def __str__(self) -> str:
        return f"{self.person.reference} @ {self.agency}"


def consent_upload_to(instance: Consent, filename: str) -> str:
    return f"consents/{instance.person_id}/{secrets.token_hex(12)}.pdf"


class Consent(models.Model):
    """The person's consent to share named data categories with named agencies for a purpose."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    categories = models.JSONField(_("data categories"), default=list)
    recipients = models.ManyToManyField(Agency, related_name="consents_received", verbose_name=_("recipients"))
    purpose = models.CharField(_("purpose"), max_length=500)
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    text_version = models.CharField(_("version of the consent text"), max_length=40)
    document = models.FileField(_("signed document"), upload_to=consent_upload_to, blank=True, max_length=200)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_by_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="consents_recorded")
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"{self.person.reference}: {self.purpose}"

    def is_valid_on(self, day: object = None) -> bool:
        day = day or timezone.localdate()
        return (
            self.revoked_at is None
            and self.valid_from <= day  # type: ignore[operator]
            and (self.valid_until is None or day <= self.valid_until)  # type: ignore[operator]
        )


class Share(models.Model):
    """One agency lets another see some categories of a person, on a named legal basis.

    Created by sending a referral or by an explicit share; ended by revocation of the
    consent it rests on, by the end of the referral, or by hand.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="shares")
    from_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="shares_given")
    to_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="shares_received")
    categories = models.JSONField(_("data categories"), default=list)
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="shares")
    basis_reason = models.TextField(_("reason"), blank=True, max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("share")
        verbose_name_plural = _("shares")
        indexes = [models.Index(fields=["to_agency", "ended_at"]), models.Index(fields=["person", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.person.reference}: {self.from_agency} → {self.to_agency}"


class CEFRLevel(models.TextChoices):
    A1 = "A1", "A1"
    A2 = "A2", "A2"
    B1 = "B1", "B1"
    B2 = "B2", "B2"
    C1 = "C1", "C1"
    C2 = "C2", "C2"
    NATIVE = "native", _("native language")


class RecognitionStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("not started")
    NOT_NEEDED = "not_needed", _("not needed")
    PENDING = "pending", _("procedure running")
    FULL = "full", _("fully equivalent")
    PARTIAL = "partial", _("partially equivalent")
    NONE = "none", _("not equivalent")


class QualificationKind(models.TextChoices):
    """The kinds of qualification a profile lists (stored in ``Profile.qualifications``)."""

    SCHOOL = "school", _("school")
    VOCATIONAL = "vocational", _("vocational")
    ACADEMIC = "academic", _("academic")


class Profile(models.Model):
    """First profiling (Erstprofiling), versioned: every change is a new version, older ones stay readable.

    ``languages``: [{"language", "level"}]; ``qualifications``: [{"kind", "title", "country",
    "recognition"}]; ``work_experience``: [{"occupation", "country", "years"}]. The lists are
    validated by the services.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="profiles")
    version = models.PositiveIntegerField(_("version"))
    languages = models.JSONField(_("languages"), default=list, blank=True)
    qualifications = models.JSONField(_("qualifications"), default=list, blank=True)
    work_experience = models.JSONField(_("work experience"), default=list, blank=True)
    wishes = models.TextField(_("personal wishes"), blank=True, max_length=4000)
    childcare_needs = models.TextField(_("childcare needs"), blank=True, max_length=2000)
    assessment = models.TextField(_("assessment"), blank=True, max_length=8000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["person", "-version"]
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        constraints = [models.UniqueConstraint(fields=["person", "version"], name="profile_unique_version")]

    def __str__(self) -> str:
        return f"{self.person.reference} v{self.version}"


# Which parts of a profile belong to which category.
PROFILE_CATEGORY_FIELDS: dict[str, tuple[str, ...]] = {
    Category.LANGUAGES: ("languages",),
    Category.EDUCATION: ("qualifications",),
    Category.WORK: ("work_experience", "wishes", "assessment"),
    Category.HEALTH: ("childcare_needs",),
}


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    AGREED = "agreed", _("agreed")
    CLOSED = "closed", _("closed")


class Plan(models.Model):
    """The integration plan (Kooperationsplan) of a person, agreed with them and reviewed."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="plans")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="plans", verbose_name=_("agency"))
    goals = models.TextField(_("goals"), max_length=4000)
    plain_summary = models.TextField(
        _("summary in plain language"), blank=True, max_length=4000, help_text=_("Printed for the person.")
    )
    status = models.CharField(_("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    agreed_on = models.DateField(_("agreed on"), null=True, blank=True)
    review_on = models.DateField(_("review on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("integration plan")
        verbose_name_plural = _("integration plans")

    def __str__(self) -> str:
        return f"{self.person.reference}: {_('plan')} {self.created_at:%Y-%m-%d}"


class StepKind(models.TextChoices):
    LANGUAGE_COURSE = "language_course", _("Language course")
    INTEGRATION_COURSE = "integration_course", _("Integration course")
    ACTIVATION = "activation", _("Activation measure")
    COUNSELLING = "counselling", _("Labour-market counselling")
    RECOGNITION = "recognition", _("Recognition of a foreign qualification")
    INTERNSHIP = "internship", _("Internship")
    APPRENTICESHIP = "apprenticeship", _("Apprenticeship")
    JOB = "job", _("Job")
    OTHER = "other", _("Other")


class StepStatus(models.TextChoices):
    PLANNED = "planned", _("planned")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


class PlanStep(models.Model):
    """One link in the chain of measures, owned by one agency."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=30, choices=StepKind.choices)
    title = models.CharField(_("title"), max_length=200)
    owner_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="plan_steps", verbose_name=_("responsible agency")
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=StepStatus.choices, default=StepStatus.PLANNED)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)

    class Meta:
        ordering = ["plan", "position", "id"]
        verbose_name = _("plan step")
        verbose_name_plural = _("plan steps")

    def __str__(self) -> str:
        return self.title


class MeasureKind(models.TextChoices):
    INTEGRATION_COURSE = "integration_course", _("Integration course")
    LANGUAGE_COURSE = "language_course", _("Language course")
    ACTIVATION = "activation", _("Activation measure")
    COUNSELLING = "counselling", _("Counselling")
    QUALIFICATION = "qualification", _("Qualification")
    OTHER = "other", _("Other")


class Measure(models.Model):
    """A course or measure a provider offers, with seats and a waiting list. Not personal data."""

    provider = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="measures", verbose_name=_("provider"))
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=MeasureKind.choices)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    languages = models.CharField(_("languages of instruction"), max_length=200, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    seats = models.PositiveIntegerField(_("seats"), validators=[MinValueValidator(1), MaxValueValidator(1000)])
    is_open = models.BooleanField(_("open for enrolment"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["starts_on", "title"]
        verbose_name = _("measure")
        verbose_name_plural = _("measures")

    def __str__(self) -> str:
        return self.title


class EnrollmentStatus(models.TextChoices):
    ENROLLED = "enrolled", _("enrolled")
    WAITLISTED = "waitlisted", _("on the waiting list")
    CANCELLED = "cancelled", _("cancelled")
    COMPLETED = "completed", _("completed")
    DROPPED_OUT = "dropped_out", _("dropped out")


class Enrollment(models.Model):
    """A person's seat in a measure, or their place on its waiting list."""

    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="enrollments")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="enrollments")
    status = models.CharField(_("status"), max_length=20, choices=EnrollmentStatus.choices)
    waitlist_position = models.PositiveIntegerField(_("place on the waiting list"), null=True, blank=True)
    requested_by_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["measure", "status", "waitlist_position", "created_at"]
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "person"],
                condition=Q(status__in=["enrolled", "waitlisted"]),
                name="enrollment_one_active_per_person",
            ),
            models.UniqueConstraint(
                fields=["measure", "waitlist_position"],
                condition=Q(status="waitlisted"),
                name="enrollment_unique_waitlist_position",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.reference} @ {self.measure}"


class Urgency(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")


class ReferralStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SENT = "sent", _("sent")
    RECEIVED = "received", _("received")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")
    EXPIRED = "expired", _("expired")
    WAITLISTED = "waitlisted", _("waitlisted")
    IN_PROGRESS = "in_progress", _("in progress")
    COMPLETED = "completed", _("completed")
    FAILED = "failed", _("failed")
    WITHDRAWN = "withdrawn", _("withdrawn")
    REDIRECTED = "redirected", _("redirected")


class Outcome(models.TextChoices):
    SUCCESSFUL = "successful", _("successful")
    NOT_SUCCESSFUL = "not_successful", _("not successful")


class OutcomeReason(models.TextChoices):
    CLIENT_REFUSED = "client_refused_services", _("the person refused")
    LACK_OF_CAPACITY = "lack_of_capacity", _("no capacity")
    NO_LONGER_NEEDED = "services_no_longer_needed", _("no longer needed")
    CLIENT_UNREACHABLE = "unable_to_contact_client", _("person could not be reached")
    OTHER = "other", _("other")


class Referral(models.Model):
    """A closed-loop referral of a person from one agency to another (or to a measure)."""

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="referrals")
    from_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="referrals_sent")
    to_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="referrals_received")
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals")
    reason = models.TextField(_("reason"), max_length=4000)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    categories = models.JSONField(_("data categories shared"), default=list)
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals")
    basis_reason = models.TextField(_("reason for the legal basis"), blank=True, max_length=2000)
    answer_due_on = models.DateField(_("answer due on"))
    status = models.CharField(
        _("status"), max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT, db_index=True
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    outcome_reason = models.CharField(_("reason"), max_length=40, choices=OutcomeReason.choices, blank=True)
    status_note = models.TextField(_("note"), blank=True, max_length=2000)
    share = models.OneToOneField(Share, on_delete=models.PROTECT, null=True, blank=True, related_name="referral")
    redirected_to = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="redirected_from"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            models.Index(fields=["to_agency", "status", "answer_due_on"]),
            models.Index(fields=["from_agency", "status", "answer_due_on"]),
            # The figures count an agency's referrals sent in a period (reporting.figures).
            models.Index(fields=["from_agency", "sent_at"]),
            models.Index(fields=["to_agency", "sent_at"]),
            # Lists show the newest first: the first page reads a few dozen rows of this index
            # instead of sorting every referral an agency sent or received.
            models.Index(fields=["-created_at"], name="referral_newest_first"),
            # The same for one side: a state's index above holds one row of an agency in hundreds.
            models.Index(fields=["to_agency", "-created_at", "-id"], name="referral_received_newest"),
            models.Index(fields=["from_agency", "-created_at", "-id"], name="referral_sent_newest"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(from_agency=models.F("to_agency")), name="referral_not_to_own_agency"),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.reference:
            self.reference = new_reference("R")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class ReferralStatusChange(models.Model):
    """The status history of a referral: every transition, by whom, for which agency, with a note."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=ReferralStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ReferralStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, related_name="+")
    note = models.TextField(blank=True, max_length=2000)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["referral", "at", "id"]

    def __str__(self) -> str:
        return f"{self.referral}: {self.from_status} → {self.to_status}"


class TransferStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")


class ResponsibilityTransfer(models.Model):
    """A change of responsibility (Zuständigkeitswechsel), e.g. from the AsylbLG office to the jobcenter."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="transfers")
    from_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="transfers_out")
    to_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="transfers_in")
    effective_on = models.DateField(_("effective on"))
    new_benefit_scheme = models.CharField(_("benefits from then on"), max_length=20, choices=BenefitScheme.choices)
    checklist = models.JSONField(_("checklist"), default=dict)
    note = models.TextField(_("note"), blank=True, max_length=4000)
    status = models.CharField(
        _("status"), max_length=20, choices=TransferStatus.choices, default=TransferStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at"]
        verbose_name = _("transfer of responsibility")
        verbose_name_plural = _("transfers of responsibility")

    def __str__(self) -> str:
        return f"{self.person.reference}: {self.from_agency} → {self.to_agency}"


class RecognitionDecision(models.TextChoices):
    PENDING = "pending", _("pending")
    FULL = "full", _("fully equivalent")
    PARTIAL = "partial", _("partially equivalent")
    NONE = "none", _("not equivalent")


class RecognitionProcedure(models.Model):
    """Recognition of a foreign qualification (Anerkennung): body, application, decision, gaps."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="recognitions")
    qualification = models.CharField(_("foreign qualification"), max_length=200)
    country = models.CharField(_("country"), max_length=100)
    reference_profession = models.CharField(_("German reference profession"), max_length=200)
    competent_body = models.CharField(_("competent body"), max_length=200)
    applied_on = models.DateField(_("application date"), null=True, blank=True)
    decision = models.CharField(
        _("decision"), max_length=20, choices=RecognitionDecision.choices, default=RecognitionDecision.PENDING
    )
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    gaps = models.TextField(_("gaps found"), blank=True, max_length=4000)
    bridging = models.CharField(_("bridging qualification"), max_length=200, blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("recognition procedure")
        verbose_name_plural = _("recognition procedures")

    def __str__(self) -> str:
        return f"{self.person.reference}: {self.qualification}"
