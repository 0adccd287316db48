"""CommonAcceptNegotiation: common Accept headers get JSON at once, every other one DRF's rules."""

import pytest

pytestmark = pytest.mark.django_db

LIST = "/api/contacts/"


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"], ids=str)
def test_common_accept_headers_get_json(jwt_client, accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = jwt_client.get(LIST, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "accept", ["application/json; indent=4", "text/html, application/json;q=0.9"], ids=str
)
def test_other_acceptable_headers_are_negotiated_by_drf(jwt_client, accept):
    response = jwt_client.get(LIST, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")


def test_an_accept_header_without_json_is_still_a_406(jwt_client):
    response = jwt_client.get(LIST, HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"


def test_a_format_override_is_still_negotiated(jwt_client):
    assert jwt_client.get(f"{LIST}?format=json").status_code == 200
    assert jwt_client.get(f"{LIST}?format=xml").status_code == 404
