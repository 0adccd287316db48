"""The benchmark mount of the contact list: only with PARSALINK_BENCHMARK, never with auth off."""

import importlib

import pytest
from django.urls import clear_url_caches

import parsalink.urls
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

BENCH = "/api/_bench/contacts/"


def _reload_urls() -> None:
    importlib.reload(parsalink.urls)
    clear_url_caches()


@pytest.fixture
def benchmark_mode(settings):
    """The URL conf as the server builds it at start-up with PARSALINK_BENCHMARK=1."""
    settings.PARSALINK_BENCHMARK = True
    _reload_urls()
    yield
    settings.PARSALINK_BENCHMARK = False
    _reload_urls()


def test_without_the_setting_the_bench_path_is_a_404(api_client, workspace, settings):
    settings.PARSALINK_BENCHMARK = False
    _reload_urls()
    make_contact(workspace)
    response = api_client.get(f"{BENCH}?workspace={workspace.id}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_with_the_setting_it_serves_the_same_page_as_the_authenticated_list(
    benchmark_mode, api_client, jwt_client, workspace, other_workspace
):
    for i in range(60):
        make_contact(workspace, first_name=f"C{i}")
    make_contact(other_workspace, first_name="Other")
    bench = api_client.get(f"{BENCH}?workspace={workspace.id}")
    listed = jwt_client.get("/api/contacts/")
    assert bench.status_code == 200
    assert bench.json()["results"] == listed.json()["results"]
    assert len(bench.json()["results"]) == 50
    # Its next link keeps the workspace and continues the same walk.
    second = api_client.get(bench.json()["next"])
    assert second.json()["results"] == jwt_client.get(listed.json()["next"]).json()["results"]


@pytest.mark.parametrize("query", ["", "?workspace=", "?workspace=acme", "?workspace=ct_x"])
def test_bench_needs_a_workspace_id(benchmark_mode, api_client, query):
    response = api_client.get(f"{BENCH}{query}")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"workspace"}


def test_bench_only_lists(benchmark_mode, api_client, workspace):
    response = api_client.post(
        f"{BENCH}?workspace={workspace.id}", {"firstName": "X"}, format="json"
    )
    assert response.status_code == 405
