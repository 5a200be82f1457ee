"""The round table's figures: what each one counts, for whom, and when a number is hidden.

Every figure is computed for a *scope*: a workspace (a round table) or one agency, which the
actor must belong to (``resolve_scope``; anything else answers 404, as in ``hub.access``). A
workspace's agencies are its member agencies, coordinating agency included; the optional agency
filter narrows a workspace to one of them. A *period* is a range of calendar days in Europe/Berlin,
both ends included.

Definitions (the wording counties quote in their reports):

people_served
    Distinct persons with a case file at an agency of the scope that was open on at least one day
    of the period (opened before its end, not closed before its start). Merged duplicates count once.
caseload
    Case files open at the end of the period divided by the active staff members with the
    caseworker role (roles as they are today) of the same agencies; by agency as well. No value
    where an agency has no caseworker.
referrals
    Referrals sent in the period, by their status today, by receiving agency and by month sent.
    In a workspace both the sending and the receiving agency sit at the round table (its own
    traffic); with the agency filter, that agency sends or receives them. For one agency: the
    referrals it sent or received.
overdue_answers
    Of those referrals, the ones not answered by their due date: expired, still waiting for an
    answer after the due date, or accepted or declined on a later day.
time_to_accept
    Median and 90th percentile of days from sending to accepting, over the referrals of
    ``referrals`` that were accepted (continuous percentile, as PostgreSQL's ``percentile_cont``).
wait_first_measure, wait_integration_course
    Median and 90th percentile of days from arrival in Germany to the start of the person's first
    measure (any kind; for the second figure, the first integration course) in which they got a
    seat (enrolled, completed or dropped out; waiting lists and cancellations do not count), over
    the persons of ``people_served`` with an arrival date whose first such measure started in the
    period.
measures_started, measures_completed
    Seats in measures (enrolments), of persons whose enrolment an agency of the scope requested or
    whose measure it provides. Started: a seat whose measure starts in the period. Completed: an
    enrolment marked completed whose measure ends in the period (without an end date: the day it
    was marked). By kind of measure.
outcomes
    Distinct persons per outcome: a plan step of kind job, internship or apprenticeship marked
    done, owned by an agency of the scope or in a plan of one, whose start date (without one, its
    due date) is in the period; and "course completed": a completed enrolment in an integration or
    language course (dated as in ``measures_completed``). The value adds up the kinds, so a person
    with a job and a completed course counts twice. Plan steps carry no date on which they were
    done; the start date of the job, internship or apprenticeship stands in for it, and steps
    without any date are not counted.
flats_available, flats_reserved, flats_occupied
    Flats today (their status has no cheap history): in a workspace the published flats shared
    with it, with the agency filter those of that managing agency; for one agency the flats it
    manages. Occupied means allocated to a household (moved in or about to).
action_items_open, action_items_overdue
    Action items of the round table's meetings (for one agency: the items it owns) open today, and
    of those the ones whose due date has passed. By responsible agency.

Small numbers. In a workspace the figures combine the cases of several agencies and are read by
staff of agencies that do not hold those persons; a count of 1 to 4 persons (or of events of
persons: referrals, seats, outcomes) could identify someone there, so it is shown as "<5"
(``SMALL``). Zero stays 0: it identifies nobody. A value derived from fewer than five persons (a
caseload, a median, a percentile) is shown as "–" (``HIDDEN``), because a median of one or two
durations is the duration of a person's case. Flats, action items and staff counts are not
suppressed: they describe agencies and flats, not persons, and every member agency sees those
flats and meetings anyway. For a single agency nothing is suppressed: every row counted there is one
its own staff may open in full. Where exactly one cell of a series is hidden, the total and the other
cells would give it away by subtraction, so the smallest other non-zero cell is hidden too and shown
as "–" (secondary suppression, as statistical offices do). ``Figure.cases`` and the raw ``value``
of a hidden point are for tests and internal checks; pages and exports print ``display``.
The agency filter is a second table of the same counts: a filtered count that differs from the round
table's by 1 to 4 is hidden as well (``_guard_complements``), or the subtraction would tell.

Every figure is a database aggregate; the number of queries is fixed, whatever the number of rows.
Percentiles use PostgreSQL's ``percentile_cont``; on SQLite (the demo) the same interpolation is
computed from a count and two ordered rows per percentile (``_percentiles_by_offset``).
"""

from __future__ import annotations

import calendar
import datetime
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    Min,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.http import Http404
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Staff, Workspace, WorkspaceMembership
from housing.models import Listing, ListingStatus
from hub import access
from hub.queries import among
from referrals.models import (
    CaseFile,
    Enrollment,
    EnrollmentStatus,
    Measure,
    MeasureKind,
    Person,
    PlanStep,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    StepKind,
    StepStatus,
)

if TYPE_CHECKING:
    from hub.access import Actor

SMALL = "<5"
HIDDEN = "–"
THRESHOLD = 5

# Enrolments in which the person had a seat: the measure took place for them.
SEATED = (EnrollmentStatus.ENROLLED, EnrollmentStatus.COMPLETED, EnrollmentStatus.DROPPED_OUT)
COURSES = (MeasureKind.INTEGRATION_COURSE, MeasureKind.LANGUAGE_COURSE)
OUTCOME_STEPS = (StepKind.JOB, StepKind.INTERNSHIP, StepKind.APPRENTICESHIP)
COURSE_COMPLETED = "course_completed"
WAITING_FOR_ANSWER = (ReferralStatus.SENT, ReferralStatus.RECEIVED)
ACTION_ITEM = "messaging.ActionItem"


# The answer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One bar or slice of a chart, and one row of its table."""

    key: str
    label: str
    value: int | float | None
    display: str
    suppressed: bool = False


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    points: tuple[Point, ...]


@dataclass(frozen=True)
class Figure:
    """One figure: ``value`` for exports and tests, ``display`` for pages (suppression applied).

    ``cases`` is the number of persons or referrals a derived value (median, caseload) rests on.
    """

    key: str
    label: str
    unit: str
    value: int | float | None
    display: str
    suppressed: bool = False
    cases: int | None = None
    series: tuple[Series, ...] = ()
    extra: tuple[Figure, ...] = ()

    def get_series(self, key: str) -> Series:
        for series in self.series:
            if series.key == key:
                return series
        raise KeyError(key)


@dataclass(frozen=True)
class Period:
    """Calendar days in the hub's time zone, both ends included."""

    start: datetime.date
    end: datetime.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("A period ends on or after its start.")

    @property
    def starts_at(self) -> datetime.datetime:
        return _midnight(self.start)

    @property
    def ends_before(self) -> datetime.datetime:
        """The first moment after the period."""
        return _midnight(self.end + datetime.timedelta(days=1))

    def months(self) -> list[datetime.date]:
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            days = calendar.monthrange(month.year, month.month)[1]
            month = month + datetime.timedelta(days=days)
        return months


@dataclass(frozen=True)
class Scope:
    """What the figures are about, as ``resolve_scope`` allowed it for the actor."""

    kind: str  # "workspace" or "agency"
    pk: int
    name: str
    member_ids: frozenset[int]
    agency_ids: frozenset[int]  # after the agency filter
    agency_names: dict[int, str] = field(compare=False)
    filtered_by: int | None = None

    def narrowed_to(self, agency: Agency) -> Scope:
        """The same scope for one of its agencies (the agency filter); any other agency is a 404."""
        if agency.pk not in self.member_ids:
            raise Http404
        return replace(self, agency_ids=frozenset({agency.pk}), filtered_by=agency.pk)

    @cached_property
    def provided_measure_ids(self) -> list[int]:
        """The offers of the scope's agencies, as a list: PostgreSQL answers an OR of two lists of ids
        from two indexes, where an OR across the join to the offers read every seat of the state."""
        return list(Measure.objects.filter(provider_id__in=self.agency_ids).values_list("pk", flat=True))

    @property
    def suppress(self) -> bool:
        return self.kind == "workspace"

    @property
    def is_workspace(self) -> bool:
        return self.kind == "workspace"


@dataclass(frozen=True)
class Dashboard:
    scope: Scope
    period: Period
    today: datetime.date
    figures: dict[str, Figure]

    def __getitem__(self, key: str) -> Figure:
        return self.figures[key]


# Scope -------------------------------------------------------------------------------------


def resolve_scope(actor: Actor, target: Workspace | Agency, agency: Agency | None = None) -> Scope:
    """The scope for ``target`` if the actor belongs to it: a workspace it sees, or one of its own
    agencies. The agency filter must be one of the scope's agencies. Anything else is a 404."""
    if not access.sees_figures_of(actor, target):
        raise Http404
    if isinstance(target, Workspace):
        members = set(WorkspaceMembership.objects.filter(workspace_id=target.pk).values_list("agency_id", flat=True))
        members.add(target.coordinator_agency_id)
        kind, name = "workspace", target.name
    elif isinstance(target, Agency):
        members, kind, name = {target.pk}, "agency", target.display_name
    else:
        raise TypeError("Figures are kept for a workspace or an agency.")
    names = {
        pk: short or full
        for pk, short, full in Agency.objects.filter(pk__in=members).values_list("pk", "short_name", "name")
    }
    scope = Scope(
        kind=kind,
        pk=target.pk,
        name=name,
        member_ids=frozenset(members),
        agency_ids=frozenset(members),
        agency_names=names,
    )
    return scope if agency is None else scope.narrowed_to(agency)


def dashboard(
    actor: Actor,
    target: Workspace | Agency,
    period: Period,
    agency: Agency | None = None,
    *,
    today: datetime.date | None = None,
) -> Dashboard:
    """Every figure for ``target`` in ``period``, optionally for one of its agencies."""
    return figures_of(resolve_scope(actor, target, agency), period, today=today)


def figures_of(scope: Scope, period: Period, *, today: datetime.date | None = None) -> Dashboard:
    """Every figure of a scope that ``resolve_scope`` allowed."""
    today = today or timezone.localdate()
    figures = _all_figures(scope, period, today)
    if scope.suppress and scope.filtered_by is not None:
        whole = _all_figures(replace(scope, agency_ids=scope.member_ids, filtered_by=None), period, today)
        figures = _guard_complements(figures, whole)
    return Dashboard(scope=scope, period=period, today=today, figures=figures)


def _all_figures(scope: Scope, period: Period, today: datetime.date) -> dict[str, Figure]:
    figures = [
        people_served(scope, period),
        caseload(scope, period),
        *referral_figures(scope, period, today),
        waiting_time(scope, period, integration_course=False),
        waiting_time(scope, period, integration_course=True),
        *measure_figures(scope, period),
        outcomes(scope, period),
        *flat_figures(scope),
        *action_item_figures(scope, today),
    ]
    return {figure.key: figure for figure in figures}


# Formatting and suppression ---------------------------------------------------------------


def count_display(value: int, suppress: bool) -> tuple[str, bool]:
    """A count for display: 1 to 4 become "<5" where suppression applies; 0 stays 0."""
    if suppress and 0 < value < THRESHOLD:
        return SMALL, True
    return formats.number_format(value), False


def derived_display(value: float | None, cases: int, suppress: bool) -> tuple[str, bool]:
    """A value computed from ``cases`` persons: hidden below five where suppression applies."""
    if suppress and 0 < cases < THRESHOLD:
        return HIDDEN, True
    if value is None:
        return HIDDEN, False
    return formats.number_format(value, 1), False


def _round(value: float | None) -> float | None:
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _count_figure(
    key: str, label: Promise, unit: Promise, value: int, suppress: bool, series: Iterable[Series] = ()
) -> Figure:
    display, suppressed = count_display(value, suppress)
    return Figure(
        key=key,
        label=str(label),
        unit=str(unit),
        value=value,
        display=display,
        suppressed=suppressed,
        series=tuple(series),
    )


def _count_series(key: str, label: Promise, rows: Sequence[tuple[str, str, int]], suppress: bool) -> Series:
    points = []
    for point_key, point_label, value in rows:
        display, suppressed = count_display(value, suppress)
        points.append(Point(point_key, point_label, value, display, suppressed))
    return Series(key=key, label=str(label), points=_secondary(points, [row[2] for row in rows]))


def _secondary(points: list[Point], weights: Sequence[int]) -> tuple[Point, ...]:
    """Secondary suppression: a single hidden cell could be worked out from the total and the other
    cells, so the smallest other non-zero cell is hidden as well (shown as ``HIDDEN``)."""
    if sum(point.suppressed for point in points) != 1:
        return tuple(points)
    candidates = [index for index, point in enumerate(points) if not point.suppressed and weights[index] > 0]
    if candidates:
        index = min(candidates, key=lambda i: weights[i])
        points[index] = replace(points[index], display=HIDDEN, suppressed=True)
    return tuple(points)


# Counts of persons and of their files, referrals, seats and outcomes: what the agency filter must not
# give away.
COMPLEMENT_GUARDED = (
    "people_served",
    "caseload",
    "referrals",
    "overdue_answers",
    "measures_started",
    "measures_completed",
    "outcomes",
)


def _reveals(whole: int | float | None, part: int | float | None) -> bool:
    """Whether ``whole - part`` counts 1 to 4: what the round table has beyond one agency's share."""
    if not isinstance(whole, int) or not isinstance(part, int):
        return False
    return 0 < whole - part < THRESHOLD


def _guard_complements(filtered: dict[str, Figure], whole: dict[str, Figure]) -> dict[str, Figure]:
    """Complementary suppression across the agency filter. The round table's figures and the same
    figures for one of its agencies are both on offer, so a filtered count is hidden ("–") where
    the round table's count hides it, and where the two differ by 1 to 4 (7 served, 5 of them by the
    jobcenter: the social office's 2). A hidden total leaves a hidden cell in each of its series, or
    adding them up would give it back; then secondary suppression runs again."""
    guarded = dict(filtered)
    for key in COMPLEMENT_GUARDED:
        figure, other = filtered[key], whole[key]
        hide_total = figure.suppressed or other.suppressed or _reveals(other.value, figure.value)
        series = []
        for part in figure.series:
            totals = {point.key: point for point in other.get_series(part.key).points}
            points = [_hidden(point) if _given_away(point, totals.get(point.key)) else point for point in part.points]
            if hide_total and not any(point.suppressed and point.value for point in points):
                counted = [index for index, point in enumerate(points) if point.value]
                if counted:
                    largest = max(counted, key=lambda index: points[index].value or 0)
                    points[largest] = _hidden(points[largest])
            weights = [int(point.value or 0) for point in points]
            series.append(replace(part, points=_secondary(points, weights)))
        # Narrowed to one agency, a series by agency has one cell, which is the total.
        hide_total = hide_total or any(len(part.points) == 1 and part.points[0].suppressed for part in series)
        if hide_total and not figure.suppressed:
            figure = replace(figure, display=HIDDEN, suppressed=True)
        guarded[key] = replace(figure, series=tuple(series))
    return guarded


def _given_away(point: Point, total: Point | None) -> bool:
    if point.suppressed or not point.value or total is None:
        return False
    return total.suppressed or _reveals(total.value, point.value)


def _hidden(point: Point) -> Point:
    return point if point.suppressed else replace(point, display=HIDDEN, suppressed=True)


def _ordered_names(scope: Scope) -> list[tuple[int, str]]:
    """The scope's agencies by name; in a workspace all members, whatever the agency filter."""
    pks = scope.member_ids if scope.is_workspace else scope.agency_ids
    return sorted(((pk, scope.agency_names.get(pk, "")) for pk in pks), key=lambda row: row[1])


def _by_agency(scope: Scope, counts: dict[int, int]) -> list[tuple[str, str, int]]:
    """Rows for the agencies the figure counts (after the agency filter), zeros included."""
    return [(str(pk), name, counts.get(pk, 0)) for pk, name in _ordered_names(scope) if pk in scope.agency_ids]


def _by_month(period: Period, counts: dict[datetime.date, int]) -> list[tuple[str, str, int]]:
    return [
        (month.strftime("%Y-%m"), formats.date_format(month, "YEAR_MONTH_FORMAT"), counts.get(month, 0))
        for month in period.months()
    ]


def _month(value: datetime.date | datetime.datetime) -> datetime.date:
    # The database may hand back the local month's first moment in UTC, i.e. the previous day.
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# Percentiles ------------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile, an ordered-set aggregate."""

    function = "percentile_cont"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile lies between 0 and 1.")
        super().__init__(expression, fraction=f"{float(fraction):.6f}", **extra)


class DaysBetween(Func):
    """Days (with fractions) from ``start`` to ``end``, for dates and for moments alike."""

    output_field = FloatField()
    arity = 2
    template = "(julianday(%(expressions)s))"
    arg_joiner = ") - julianday("

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="((EXTRACT(EPOCH FROM %(expressions)s))::double precision / 86400.0)",
            arg_joiner=") - EXTRACT(EPOCH FROM ",
            **extra_context,
        )


@dataclass(frozen=True)
class Distribution:
    cases: int
    values: dict[float, float | None]


def percentiles(qs: QuerySet[Any], expression: Any, fractions: Sequence[float]) -> Distribution:
    """Continuous percentiles of ``expression`` over ``qs`` (rows where it is not null)."""
    annotated = qs.annotate(measured=expression).filter(measured__isnull=False)
    if connection.vendor != "postgresql":
        return _percentiles_by_offset(annotated, fractions)
    aggregates: dict[str, Any] = {"cases": Count("measured")}
    aggregates.update(
        {f"p{index}": PercentileCont(F("measured"), fraction) for index, fraction in enumerate(fractions)}
    )
    row = annotated.aggregate(**aggregates)
    return Distribution(
        cases=row["cases"], values={fraction: row[f"p{index}"] for index, fraction in enumerate(fractions)}
    )


def _percentiles_by_offset(annotated: QuerySet[Any], fractions: Sequence[float]) -> Distribution:
    """``percentile_cont`` where the database has none: the count, then for each percentile the two
    rows around its position in order, interpolated linearly. One plus one query per percentile."""
    cases = annotated.count()
    values: dict[float, float | None] = {}
    ordered = annotated.order_by("measured").values_list("measured", flat=True)
    for fraction in fractions:
        if cases == 0:
            values[fraction] = None
            continue
        position = (cases - 1) * fraction
        lower = math.floor(position)
        around = [float(v) for v in ordered[lower : lower + 2]]
        upper = around[1] if len(around) > 1 else around[0]
        values[fraction] = around[0] + (upper - around[0]) * (position - lower)
    return Distribution(cases=cases, values=values)


def _distribution_figure(
    key: str, label: Promise, distribution: Distribution, suppress: bool, series: Iterable[Series] = ()
) -> Figure:
    """The median as the value, the 90th percentile as an extra figure; both in days."""
    median, p90 = _round(distribution.values[0.5]), _round(distribution.values[0.9])
    median_display, suppressed = derived_display(median, distribution.cases, suppress)
    p90_display, _suppressed = derived_display(p90, distribution.cases, suppress)
    return Figure(
        key=key,
        label=str(label),
        unit=str(_("days (median)")),
        value=median,
        display=median_display,
        suppressed=suppressed,
        cases=distribution.cases,
        series=tuple(series),
        extra=(
            Figure(
                key=f"{key}_p90",
                label=str(_("90th percentile")),
                unit=str(_("days")),
                value=p90,
                display=p90_display,
                suppressed=suppressed,
                cases=distribution.cases,
            ),
        ),
    )


# People and caseload ----------------------------------------------------------------------


def _not_merged(person_field: str) -> Q:
    """Leaves out persons merged into another record (they count once, as the one kept). Written
    as "not among the merged", a short list from the index on merged_into, rather than a join with
    every person: at state scale that join read a million rows for each figure."""
    merged = Person.objects.filter(merged_into__isnull=False).values("pk")
    return ~Q(**{f"{person_field}__in": merged})


def _served_files(scope: Scope, period: Period) -> QuerySet[CaseFile]:
    return CaseFile.objects.filter(
        Q(closed_at=None) | Q(closed_at__gte=period.starts_at),
        _not_merged("person_id"),
        agency_id__in=scope.agency_ids,
        opened_at__lt=period.ends_before,
    )


def people_served(scope: Scope, period: Period) -> Figure:
    files = _served_files(scope, period)
    total = files.aggregate(n=Count("person_id", distinct=True))["n"]
    per_agency = dict(files.values_list("agency_id").annotate(n=Count("person_id", distinct=True)).order_by())
    return _count_figure(
        "people_served",
        _("People served"),
        _("persons"),
        total,
        scope.suppress,
        [_count_series("by_agency", _("By agency"), _by_agency(scope, per_agency), scope.suppress)],
    )


def caseload(scope: Scope, period: Period) -> Figure:
    end = period.ends_before
    files = dict(
        CaseFile.objects.filter(
            Q(closed_at=None) | Q(closed_at__gte=end),
            _not_merged("person_id"),
            agency_id__in=scope.agency_ids,
            opened_at__lt=end,
        )
        .values_list("agency_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    workers = dict(
        Staff.objects.filter(
            Q(is_active=True) | Q(deactivated_at__gte=end),
            agency_id__in=scope.agency_ids,
            is_caseworker=True,
            joined_at__lt=end,
        )
        .values_list("agency_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    points, weights = [], []
    for pk_text, name, open_files in _by_agency(scope, files):
        staff = workers.get(int(pk_text), 0)
        ratio = _round(open_files / staff) if staff else None
        display, suppressed = derived_display(ratio, open_files, scope.suppress)
        points.append(Point(pk_text, name, ratio, display, suppressed))
        weights.append(open_files)
    total_files, total_staff = sum(files.values()), sum(workers.values())
    value = _round(total_files / total_staff) if total_staff else None
    display, suppressed = derived_display(value, total_files, scope.suppress)
    return Figure(
        key="caseload",
        label=str(_("Caseload per caseworker")),
        unit=str(_("open case files per caseworker")),
        value=value,
        display=display,
        suppressed=suppressed,
        cases=total_files,
        series=(Series("by_agency", str(_("By agency")), _secondary(points, weights)),),
    )


# Referrals -------------------------------------------------------------------------------


def _referrals(scope: Scope, period: Period) -> QuerySet[Referral]:
    qs = Referral.objects.filter(sent_at__gte=period.starts_at, sent_at__lt=period.ends_before)
    if scope.is_workspace:
        qs = qs.filter(from_agency_id__in=scope.member_ids, to_agency_id__in=scope.member_ids)
    return qs.filter(Q(from_agency_id__in=scope.agency_ids) | Q(to_agency_id__in=scope.agency_ids))


def referral_figures(scope: Scope, period: Period, today: datetime.date) -> list[Figure]:
    referrals = _referrals(scope, period)
    late = (
        Q(status=ReferralStatus.EXPIRED)
        | Q(status__in=WAITING_FOR_ANSWER, answer_due_on__lt=today)
        | Q(answered_on__gt=F("answer_due_on"))
    )
    # One scan of the period's referrals, grouped by status, receiving agency and month: the
    # groups are few (statuses x agencies x months), whatever the number of referrals.
    groups = (
        referrals.annotate(answered_on=TruncDate("answered_at"), month=TruncMonth("sent_at"))
        .values_list("status", "to_agency_id", "to_agency__short_name", "to_agency__name", "month")
        .annotate(n=Count("pk"), late=Count("pk", filter=late))
        .order_by()
    )
    totals = {"total": 0, "overdue": 0}
    by_status: dict[str, int] = {}
    to_agency: dict[int, tuple[str, int]] = {}
    by_month: dict[datetime.date, int] = {}
    for status, agency_id, short, name, month, n, overdue in groups:
        totals["total"] += n
        totals["overdue"] += overdue
        by_status[status] = by_status.get(status, 0) + n
        to_agency[agency_id] = (short or name, to_agency.get(agency_id, ("", 0))[1] + n)
        by_month[_month(month)] = by_month.get(_month(month), 0) + n
    status_rows = [
        (status.value, str(status.label), by_status.get(status.value, 0))
        for status in ReferralStatus
        if status != ReferralStatus.DRAFT
    ]
    # Every agency of the scope (zeros too), and for one agency also those it sent to.
    receiving = [(str(pk), name, to_agency.get(pk, ("", 0))[1]) for pk, name in _ordered_names(scope)]
    receiving += sorted(
        ((str(pk), name, n) for pk, (name, n) in to_agency.items() if pk not in scope.agency_names),
        key=lambda row: row[1],
    )
    accepted = Exists(ReferralStatusChange.objects.filter(referral=OuterRef("pk"), to_status=ReferralStatus.ACCEPTED))
    distribution = percentiles(referrals.filter(accepted), DaysBetween(F("answered_at"), F("sent_at")), (0.5, 0.9))
    return [
        _count_figure(
            "referrals",
            _("Referrals sent"),
            _("referrals"),
            totals["total"],
            scope.suppress,
            [
                _count_series("by_status", _("By status"), status_rows, scope.suppress),
                _count_series("by_receiving_agency", _("By receiving agency"), receiving, scope.suppress),
                _count_series("by_month", _("By month sent"), _by_month(period, by_month), scope.suppress),
            ],
        ),
        _count_figure("overdue_answers", _("Answers overdue"), _("referrals"), totals["overdue"], scope.suppress),
        _distribution_figure("time_to_accept", _("Time from sending to acceptance"), distribution, scope.suppress),
    ]


# Waiting times, measures and outcomes ------------------------------------------------------


def waiting_time(scope: Scope, period: Period, *, integration_course: bool) -> Figure:
    # Each served person's first seat, as one grouped aggregate over the seats (not a subquery per
    # person): the persons of a county or a state are many, their seats far fewer.
    seats = Enrollment.objects.filter(
        _not_merged("person_id"),
        status__in=SEATED,
        person__arrival_date__isnull=False,
        person_id__in=_served_files(scope, period).values("person_id"),
    )
    if integration_course:
        seats = seats.filter(measure__kind=MeasureKind.INTEGRATION_COURSE)
    persons = (
        seats.values("person_id", "person__arrival_date")
        .annotate(first_start=Min("measure__starts_on"))
        .filter(first_start__gte=period.start, first_start__lte=period.end)
        .order_by()
    )
    distribution = percentiles(persons, DaysBetween(F("first_start"), F("person__arrival_date")), (0.5, 0.9))
    if integration_course:
        key, label = "wait_integration_course", _("Waiting time from arrival to an integration course")
    else:
        key, label = "wait_first_measure", _("Waiting time from arrival to the first measure")
    return _distribution_figure(key, label, distribution, scope.suppress)


def _enrollments(scope: Scope) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(
        Q(requested_by_agency_id__in=scope.agency_ids) | Q(measure_id__in=scope.provided_measure_ids),
        _not_merged("person_id"),
    )


def _completed_in(period: Period) -> Q:
    return Q(status=EnrollmentStatus.COMPLETED, completed_on__gte=period.start, completed_on__lte=period.end)


def _with_completion_day(qs: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    return qs.annotate(completed_on=Coalesce(F("measure__ends_on"), TruncDate("updated_at")))


def measure_figures(scope: Scope, period: Period) -> list[Figure]:
    started = Q(status__in=SEATED, measure__starts_on__gte=period.start, measure__starts_on__lte=period.end)
    completed = _completed_in(period)
    rows = {
        kind: (s, c)
        for kind, s, c in _with_completion_day(_enrollments(scope))
        .values_list("measure__kind")
        .annotate(s=Count("pk", filter=started), c=Count("pk", filter=completed))
        .order_by()
    }
    kinds = list(MeasureKind)
    started_rows = [(k.value, str(k.label), rows.get(k.value, (0, 0))[0]) for k in kinds]
    completed_rows = [(k.value, str(k.label), rows.get(k.value, (0, 0))[1]) for k in kinds]
    return [
        _count_figure(
            "measures_started",
            _("Measures started"),
            _("seats"),
            sum(row[2] for row in started_rows),
            scope.suppress,
            [_count_series("by_kind", _("By kind of measure"), started_rows, scope.suppress)],
        ),
        _count_figure(
            "measures_completed",
            _("Measures completed"),
            _("seats"),
            sum(row[2] for row in completed_rows),
            scope.suppress,
            [_count_series("by_kind", _("By kind of measure"), completed_rows, scope.suppress)],
        ),
    ]


def outcomes(scope: Scope, period: Period) -> Figure:
    done = PlanStep.objects.annotate(on=Coalesce(F("starts_on"), F("due_on"))).filter(
        kind__in=OUTCOME_STEPS, status=StepStatus.DONE, on__gte=period.start, on__lte=period.end
    )
    # Each side filtered before the union: the union of all the scope's steps was as slow as a scan.
    steps = dict(
        PlanStep.objects.filter(
            among(
                "pk",
                done.filter(owner_agency_id__in=scope.agency_ids).values("pk"),
                done.filter(plan__agency_id__in=scope.agency_ids).values("pk"),
            ),
            _not_merged("plan__person_id"),
        )
        .values_list("kind")
        .annotate(n=Count("plan__person_id", distinct=True))
        .order_by()
    )
    courses = (
        _with_completion_day(_enrollments(scope))
        .filter(_completed_in(period), measure__kind__in=COURSES)
        .aggregate(n=Count("person_id", distinct=True))["n"]
    )
    rows = [(kind.value, str(kind.label), steps.get(kind.value, 0)) for kind in OUTCOME_STEPS]
    rows.append((COURSE_COMPLETED, str(_("Course completed")), courses))
    return _count_figure(
        "outcomes",
        _("Outcomes"),
        _("persons per outcome"),
        sum(row[2] for row in rows),
        scope.suppress,
        [_count_series("by_kind", _("By outcome"), rows, scope.suppress)],
    )


# Flats and action items ----------------------------------------------------------------------


def flat_figures(scope: Scope) -> list[Figure]:
    if scope.is_workspace:
        flats = Listing.objects.filter(shares__workspace_id=scope.pk).exclude(status=ListingStatus.DRAFT)
        if scope.filtered_by is not None:
            flats = flats.filter(owner_agency_id=scope.filtered_by)
    else:
        flats = Listing.objects.filter(owner_agency_id=scope.pk).exclude(status=ListingStatus.DRAFT)
    by_status = dict(flats.values_list("status").annotate(n=Count("pk", distinct=True)).order_by())
    return [
        _count_figure(key, label, _("flats"), by_status.get(status, 0), suppress=False)
        for key, label, status in (
            ("flats_available", _("Flats available"), ListingStatus.AVAILABLE),
            ("flats_reserved", _("Flats reserved"), ListingStatus.RESERVED),
            ("flats_occupied", _("Flats occupied"), ListingStatus.ALLOCATED),
        )
    ]


def action_item_figures(scope: Scope, today: datetime.date) -> list[Figure]:
    items = apps.get_model(ACTION_ITEM).objects.filter(status="open")
    if scope.is_workspace:
        items = items.filter(meeting__workspace_id=scope.pk)
    items = items.filter(owner_agency_id__in=scope.agency_ids)
    overdue = Q(due_on__lt=today)
    rows = list(
        items.values_list("owner_agency_id").annotate(n=Count("pk"), late=Count("pk", filter=overdue)).order_by()
    )
    open_by = {pk: n for pk, n, _late in rows}
    late_by = {pk: late for pk, _n, late in rows}
    return [
        _count_figure(
            "action_items_open",
            _("Action items open"),
            _("action items"),
            sum(open_by.values()),
            suppress=False,
            series=[_count_series("by_agency", _("By responsible agency"), _by_agency(scope, open_by), False)],
        ),
        _count_figure(
            "action_items_overdue",
            _("Action items overdue"),
            _("action items"),
            sum(late_by.values()),
            suppress=False,
            series=[_count_series("by_agency", _("By responsible agency"), _by_agency(scope, late_by), False)],
        ),
    ]
