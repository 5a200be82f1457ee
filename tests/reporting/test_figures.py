"""The round table's figures against the hand-built county (``tests.reporting.county``)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from agencies import services as agency_services
from agencies.models import Agency, User
from referrals import services as case_services
from referrals.models import Measure, Referral
from reporting.figures import (
    HIDDEN,
    SMALL,
    DaysBetween,
    Figure,
    Period,
    _percentiles_by_offset,
    count_display,
    dashboard,
    derived_display,
    percentiles,
    resolve_scope,
)
from tests.reporting.county import Q1, TODAY, County, day, grow_the_quarter


def points(figure: Figure, series: str) -> dict[str, tuple[object, str]]:
    """A series by its points' keys (statuses, kinds), which do not depend on the language."""
    return {point.key: (point.value, point.display) for point in figure.get_series(series).points}


def agencies(figure: Figure, series: str = "by_agency") -> dict[str, tuple[object, str]]:
    """A series by agency, named by the agencies' short names."""
    return {point.label: (point.value, point.display) for point in figure.get_series(series).points}


# The round table -----------------------------------------------------------------------------


def test_people_served_and_caseload_of_the_round_table(county: County) -> None:
    world = county.world
    board = dashboard(world.alice, world.workspace, Q1, today=TODAY)
    served = board["people_served"]
    assert (served.value, served.display, served.suppressed) == (7, "7", False)
    # The social office's two are hidden; the jobcenter's five as well, or 7 - 5 would tell.
    assert agencies(served) == {"Jobcenter": (5, HIDDEN), "Sozialamt": (2, SMALL), "Jugendamt": (0, "0")}
    # Seven open files at the end of March for three caseworkers (alice, bob, carol).
    load = board["caseload"]
    assert (load.value, load.cases, load.suppressed) == (2.3, 7, False)
    assert agencies(load) == {
        "Jobcenter": (5.0, HIDDEN),
        "Sozialamt": (2.0, HIDDEN),
        "Jugendamt": (0.0, "0,0"),
    }


def test_referrals_of_the_round_table(county: County) -> None:
    board = dashboard(county.world.cora, county.world.workspace, Q1, today=TODAY)
    referrals = board["referrals"]
    assert (referrals.value, referrals.display) == (8, "8")
    by_status = points(referrals, "by_status")
    assert by_status["accepted"] == (4, SMALL)
    assert by_status["in_progress"] == (1, SMALL)
    assert by_status["declined"] == (1, SMALL)
    assert by_status["sent"] == (1, SMALL)
    assert by_status["expired"] == (1, SMALL)
    assert by_status["completed"] == (0, "0")
    assert "draft" not in by_status
    assert agencies(referrals, "by_receiving_agency") == {
        "Jobcenter": (0, "0"),
        "Sozialamt": (6, HIDDEN),
        "Jugendamt": (2, SMALL),
    }
    assert [value for value, _display in points(referrals, "by_month").values()] == [2, 2, 4]
    # Dana's late answer, Bilal's unanswered referral to the youth office, Chiara's expired one.
    overdue = board["overdue_answers"]
    assert (overdue.value, overdue.display, overdue.suppressed) == (3, SMALL, True)


def test_time_to_accept_median_and_90th_percentile(county: County) -> None:
    board = dashboard(county.world.alice, county.world.workspace, Q1, today=TODAY)
    accept = board["time_to_accept"]
    assert (accept.value, accept.display, accept.cases, accept.suppressed) == (6.0, "6,0", 5, False)
    p90 = accept.extra[0]
    assert (p90.key, p90.value, p90.display) == ("time_to_accept_p90", 9.2, "9,2")


def test_waiting_times_are_hidden_below_five_persons(county: County) -> None:
    world = county.world
    board = dashboard(world.alice, world.workspace, Q1, today=TODAY)
    # Bilal 50 days, Chiara 31, Sara 73; Amir's first measure started before the quarter.
    first = board["wait_first_measure"]
    assert (first.value, first.cases, first.display, first.suppressed) == (50.0, 3, HIDDEN, True)
    # Amir 123 days, Chiara 31, Sara 73 to the integration course.
    course = board["wait_integration_course"]
    assert (course.value, course.extra[0].value, course.display) == (73.0, 113.0, HIDDEN)
    own = dashboard(world.alice, world.jobcenter, Q1, today=TODAY)
    assert (own["wait_first_measure"].value, own["wait_first_measure"].extra[0].value) == (40.5, 48.1)
    assert own["wait_first_measure"].display == "40,5"
    assert (own["wait_integration_course"].value, own["wait_integration_course"].extra[0].value) == (77.0, 113.8)


def test_measures_and_outcomes(county: County) -> None:
    board = dashboard(county.world.alice, county.world.workspace, Q1, today=TODAY)
    started = board["measures_started"]
    assert (started.value, started.display) == (5, "5")
    assert points(started, "by_kind")["integration_course"] == (4, SMALL)
    assert points(started, "by_kind")["language_course"] == (1, SMALL)
    assert points(started, "by_kind")["activation"] == (0, "0")
    completed = board["measures_completed"]
    assert (completed.value, completed.display) == (3, SMALL)
    assert points(completed, "by_kind")["integration_course"] == (2, SMALL)
    assert points(completed, "by_kind")["activation"] == (1, SMALL)
    outcomes = board["outcomes"]
    assert (outcomes.value, outcomes.display) == (4, SMALL)
    assert points(outcomes, "by_kind") == {
        "job": (1, SMALL),
        "internship": (1, SMALL),
        "apprenticeship": (0, "0"),
        "course_completed": (2, SMALL),
    }


def test_flats_and_action_items_are_not_suppressed(county: County) -> None:
    board = dashboard(county.world.bob, county.world.workspace, Q1, today=TODAY)
    assert [
        (board[key].value, board[key].display) for key in ("flats_available", "flats_reserved", "flats_occupied")
    ] == [
        (2, "2"),
        (1, "1"),
        (1, "1"),
    ]
    assert (board["action_items_open"].value, board["action_items_open"].display) == (3, "3")
    assert agencies(board["action_items_open"]) == {
        "Jobcenter": (2, "2"),
        "Sozialamt": (1, "1"),
        "Jugendamt": (0, "0"),
    }
    assert (board["action_items_overdue"].value, board["action_items_overdue"].display) == (2, "2")


def test_agency_filter_narrows_the_round_table(county: County) -> None:
    world = county.world
    board = dashboard(world.alice, world.workspace, Q1, world.youth_office, today=TODAY)
    assert board["people_served"].value == 0
    assert board["referrals"].value == 2
    assert board["time_to_accept"].value is None
    assert (board["time_to_accept"].display, board["time_to_accept"].suppressed) == (HIDDEN, False)
    assert board["action_items_open"].value == 0
    social = dashboard(world.alice, world.workspace, Q1, world.social_office, today=TODAY)
    assert social["flats_available"].value == 2
    # Six of the round table's eight referrals: printing 6 would tell the other two.
    assert (social["referrals"].value, social["referrals"].display) == (6, HIDDEN)


def test_the_agency_filter_does_not_give_away_the_other_agencies_by_subtraction(county: County) -> None:
    """7 persons served at the round table; the jobcenter's 5 would leave the social office's 2."""
    world = county.world
    whole = dashboard(world.bob, world.workspace, Q1, today=TODAY)
    jobcenter = dashboard(world.bob, world.workspace, Q1, world.jobcenter, today=TODAY)
    assert whole["people_served"].display == "7"
    assert (jobcenter["people_served"].value, jobcenter["people_served"].display) == (5, HIDDEN)
    assert agencies(jobcenter["people_served"]) == {"Jobcenter": (5, HIDDEN)}
    # Its five open files for alice alone: hidden at the round table, so hidden here too.
    assert (jobcenter["caseload"].value, jobcenter["caseload"].display) == (5.0, HIDDEN)
    # Every count a filtered page prints leaves at least five, or nothing, to the other agencies.
    for agency in (world.jobcenter, world.social_office, world.youth_office):
        part = dashboard(world.bob, world.workspace, Q1, agency, today=TODAY)
        for key in ("people_served", "referrals", "overdue_answers", "measures_started", "outcomes"):
            shown, total = part[key], whole[key]
            if not shown.suppressed:
                assert not 0 < int(total.value or 0) - int(shown.value or 0) < 5, (agency, key)


# One agency ----------------------------------------------------------------------------------


def test_own_agency_figures_are_not_suppressed(county: County) -> None:
    world = county.world
    board = dashboard(world.rita, world.jobcenter, Q1, today=TODAY)
    assert board["people_served"].value == 5
    # Its referral to the immigration authority counts here, not at the round table.
    referrals = board["referrals"]
    assert (referrals.value, referrals.display) == (9, "9")
    assert agencies(referrals, "by_receiving_agency") == {
        "Jobcenter": (0, "0"),
        "ABH": (1, "1"),
        "Jugendamt": (2, "2"),
        "Sozialamt": (6, "6"),
    }
    # The three of the round table, and the immigration authority's unanswered one.
    assert (board["overdue_answers"].value, board["overdue_answers"].display) == (4, "4")
    assert board["caseload"].value == 5.0
    assert (board["action_items_open"].value, board["action_items_overdue"].value) == (2, 2)
    social = dashboard(world.bob, world.social_office, Q1, today=TODAY)
    assert [social[key].value for key in ("flats_available", "flats_reserved", "flats_occupied")] == [3, 1, 1]


# Scope isolation -------------------------------------------------------------------------------


def test_outsider_gets_nothing_of_the_jobcenters_round_table(county: County) -> None:
    world = county.world
    with pytest.raises(Http404):
        dashboard(world.olga, world.workspace, Q1, today=TODAY)
    with pytest.raises(Http404):
        dashboard(world.olga, world.jobcenter, Q1, today=TODAY)
    with pytest.raises(Http404):
        dashboard(world.alice, world.workspace, Q1, world.immigration, today=TODAY)
    with pytest.raises(Http404):
        resolve_scope(world.alice, world.social_office)
    with pytest.raises(Http404):
        resolve_scope(world.olga, world.other_workspace, world.jobcenter)
    # Her own round table holds only her agency's person; the jobcenter's referral to her is not its traffic.
    own = dashboard(world.olga, world.other_workspace, Q1, today=TODAY)
    assert (own["people_served"].value, own["people_served"].display) == (1, SMALL)
    assert own["referrals"].value == 0
    assert own["action_items_open"].value == 0
    assert own["flats_available"].value == 0
    agency = dashboard(world.olga, world.immigration, Q1, today=TODAY)
    assert (agency["people_served"].value, agency["referrals"].value) == (1, 1)


def test_anonymous_and_former_staff_get_nothing(county: County) -> None:
    from django.contrib.auth.models import AnonymousUser

    world = county.world
    with pytest.raises(Http404):
        dashboard(AnonymousUser(), world.workspace, Q1)
    agency_services.staff_deactivate(actor=world.adam, staff=world.staff(world.alice))
    alice = User.objects.get(pk=world.alice.pk)
    with pytest.raises(Http404):
        dashboard(alice, world.jobcenter, Q1)


# Mechanics ----------------------------------------------------------------------------------


def test_display_rules() -> None:
    assert [count_display(value, True) for value in (0, 1, 4, 5)] == [
        ("0", False),
        (SMALL, True),
        (SMALL, True),
        ("5", False),
    ]
    assert count_display(3, False) == ("3", False)
    assert derived_display(2.5, 4, True) == (HIDDEN, True)
    assert derived_display(None, 0, True) == (HIDDEN, False)
    assert derived_display(2.5, 4, False) == ("2,5", False)
    with pytest.raises(ValueError):
        Period(day(2025, 2, 1), day(2025, 1, 31))


def test_sqlite_percentiles_match_percentile_cont(county: County) -> None:
    accepted = Referral.objects.filter(answered_at__isnull=False, status__in=["accepted", "in_progress"])
    expression = DaysBetween(F("answered_at"), F("sent_at"))
    native = percentiles(accepted, expression, (0.25, 0.5, 0.9, 1.0))
    by_offset = _percentiles_by_offset(
        accepted.annotate(measured=expression).filter(measured__isnull=False), (0.25, 0.5, 0.9, 1.0)
    )
    assert native.cases == by_offset.cases == 5
    for fraction, value in native.values.items():
        assert value == pytest.approx(by_offset.values[fraction])
    assert by_offset.values[0.25] == pytest.approx(4.0)
    assert by_offset.values[1.0] == pytest.approx(10.0)


def _course() -> Measure:
    """A course of the county's provider in the quarter, for the grown persons' seats."""
    return case_services.measure_create(
        actor=User.objects.get(username="kurt"),
        provider=Agency.objects.get(short_name="BW"),
        title="Kurs",
        kind="integration_course",
        starts_on=day(2025, 2, 1),
        ends_on=day(2025, 3, 1),
        seats=1000,
    )


@pytest.mark.parametrize("target", ["workspace", "jobcenter"])
def test_query_count_does_not_grow_with_the_data(county: County, target: str) -> None:
    world = county.world

    def queries() -> tuple[int, int]:
        user = User.objects.get(pk=world.alice.pk)  # a fresh actor: no cached memberships
        with CaptureQueriesContext(connection) as captured:
            board = dashboard(user, getattr(world, target), Q1, today=TODAY)
        return len(captured), int(board["referrals"].value or 0)

    course = _course()
    grow_the_quarter(world, 3, course)
    few, referrals_few = queries()
    grow_the_quarter(world, 27, course)
    many, referrals_many = queries()
    assert referrals_many == referrals_few + 27
    assert few == many
    assert many <= 25


def test_money_free_decimal_rounding() -> None:
    from reporting.figures import _round

    assert _round(2.25) == 2.3
    assert _round(None) is None
    assert Decimal(str(_round(1 / 3))) == Decimal("0.3")
