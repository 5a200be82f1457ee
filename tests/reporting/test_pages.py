"""The dashboard pages: what each persona sees of the hand-built county, suppression on the page
and in the charts' text alternatives, the period and agency filters, and who gets nothing."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext

from agencies.models import User
from tests.reporting.county import County

pytestmark = pytest.mark.django_db

Q1 = {"start": "2025-01-01", "end": "2025-03-31"}


def client_of(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def page(user: User | None, name: str, pk: int, query: dict[str, str] | None = None, **headers: str) -> str:
    response = client_of(user).get(reverse(name, args=[pk]), query or Q1, headers=headers)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def test_the_round_table_page_shows_suppressed_figures_only(county: County) -> None:
    world = county.world
    text = page(world.bob, "reporting-workspace", world.workspace.pk)
    # The social office's two persons: "<5" in the table and in the chart's text alternative.
    assert "Sozialamt: <5" in text
    assert '<td class="numeric"><5</td>' in text
    # Eight referrals between the round table's agencies, by month sent: 2, 2, 4, each hidden,
    # so the line has no points, only the months' "<5".
    assert text.count('class="chart-dot"') == 0
    assert text.count('class="chart-hidden-label"') == 3
    assert 'role="img"' in text and "<desc id=" in text
    # The jobcenter's five are hidden as well (secondary suppression): their number is never printed.
    assert "Jobcenter: 5" not in text and "Jobcenter: –" in text


def test_an_agencys_own_page_hides_nothing(county: County) -> None:
    world = county.world
    text = page(world.alice, "reporting-agency", world.jobcenter.pk)
    assert "Jobcenter: 5" in text
    assert "<5" not in text.split('id="results"')[1]
    # Its referrals by month sent, one dot a month, the line unbroken.
    assert text.count('class="chart-dot"') == 3
    assert text.count('class="chart-line"') == 1


def test_agency_filter_narrows_the_round_table(county: County) -> None:
    world = county.world
    text = page(world.carol, "reporting-workspace", world.workspace.pk, {**Q1, "agency": str(world.social_office.pk)})
    assert world.social_office.name in text.split('id="figures-period"')[1].split("</p>")[0]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "gestern"}, "start"),
        ({"start": "2025-03-01", "end": "2025-01-01"}, "end"),
        ({"start": "2000-01-01", "end": "2025-01-01"}, "start"),
        ({"preset": "forever"}, "preset"),
    ],
)
def test_a_bad_period_is_a_form_error(county: County, query: dict[str, str], field: str) -> None:
    response = client_of(county.world.bob).get(reverse("reporting-workspace", args=[county.world.workspace.pk]), query)
    assert response.status_code == 200
    form = response.context["loaded"].form
    assert field in form.errors
    assert response.context["loaded"].dashboard is None
    assert 'class="figure-cards"' not in response.content.decode()


def test_an_agency_outside_the_round_table_is_no_choice(county: County) -> None:
    world = county.world
    query = {**Q1, "agency": str(world.immigration.pk)}
    response = client_of(world.bob).get(reverse("reporting-workspace", args=[world.workspace.pk]), query)
    assert "agency" in response.context["loaded"].form.errors
    assert world.immigration.name not in response.content.decode()


def test_an_agencys_page_has_no_agency_filter(county: County) -> None:
    response = client_of(county.world.alice).get(reverse("reporting-agency", args=[county.world.jobcenter.pk]), Q1)
    assert "agency" not in response.context["loaded"].form.fields


def test_htmx_gets_only_the_results(county: County) -> None:
    world = county.world
    text = page(world.bob, "reporting-workspace", world.workspace.pk, Q1, **{"HX-Request": "true"})
    assert "<html" not in text and 'id="figures-period"' in text and 'class="filter-form card"' in text


def test_the_default_period_is_this_year(county: County) -> None:
    response = client_of(county.world.alice).get(reverse("reporting-agency", args=[county.world.jobcenter.pk]))
    period = response.context["loaded"].dashboard.period
    assert period.start.month == 1 and period.start.day == 1 and period.start.year == period.end.year


def test_strangers_get_nothing(county: County) -> None:
    world = county.world
    assert client_of(world.olga).get(reverse("reporting-workspace", args=[world.workspace.pk]), Q1).status_code == 404
    assert client_of(world.bob).get(reverse("reporting-agency", args=[world.jobcenter.pk]), Q1).status_code == 404
    # The agency filter cannot be used to probe another round table's members either.
    other = {**Q1, "agency": str(world.jobcenter.pk)}
    response = client_of(world.olga).get(reverse("reporting-workspace", args=[world.workspace.pk]), other)
    assert response.status_code == 404
    anonymous = client_of(None).get(reverse("reporting-workspace", args=[world.workspace.pk]))
    assert anonymous.status_code == 302


def test_the_index_lists_own_agencies_and_round_tables(county: County) -> None:
    world = county.world
    text = client_of(world.bob).get(reverse("reporting-index")).content.decode()
    assert reverse("reporting-workspace", args=[world.workspace.pk]) in text
    assert reverse("reporting-agency", args=[world.social_office.pk]) in text
    assert reverse("reporting-agency", args=[world.jobcenter.pk]) not in text
    assert reverse("reporting-workspace", args=[world.other_workspace.pk]) not in text


def test_agency_and_workspace_pages_link_to_their_figures(county: County) -> None:
    world = county.world
    own = client_of(world.alice).get(reverse("agency-detail", args=[world.jobcenter.pk])).content.decode()
    assert reverse("reporting-agency", args=[world.jobcenter.pk]) in own
    foreign = client_of(world.bob).get(reverse("agency-detail", args=[world.jobcenter.pk])).content.decode()
    assert reverse("reporting-agency", args=[world.jobcenter.pk]) not in foreign
    table = client_of(world.bob).get(reverse("workspace-detail", args=[world.workspace.pk])).content.decode()
    assert reverse("reporting-workspace", args=[world.workspace.pk]) in table


def test_export_links_carry_the_period_and_filter(county: County) -> None:
    world = county.world
    query = {**Q1, "agency": str(world.social_office.pk)}
    text = client_of(world.cora).get(reverse("reporting-workspace", args=[world.workspace.pk]), query).content.decode()
    csv_url = reverse("reporting-workspace-csv", args=[world.workspace.pk])
    expected = f"{csv_url}?start=2025-01-01&amp;end=2025-03-31&amp;agency={world.social_office.pk}"
    assert expected in text
    assert f"{expected}&amp;table=referrals.by_month" in text
    assert gettext("All tables as XLSX") in text
