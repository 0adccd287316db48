"""The contract's conventions, checked once for the API: error bodies, camelCase, ids, pages."""

import re

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from parsalink.core.ids import is_valid_id, new_id
from parsalink.core.pagination import CursorPagination
from tests.clients import HttpsAPIClient

pytestmark = pytest.mark.django_db

CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    assert set(body) <= {"detail", "code", "fields"}
    if code:
        assert body["code"] == code
    return body


def test_400_has_fields_keyed_by_camel_case_name(api_client):
    response = api_client.post("/api/auth/login/", {"email": "nope"}, format="json")
    body = assert_error_shape(response, 400, "invalid")
    assert set(body["fields"]) == {"email", "password"}
    assert all(isinstance(m, str) for messages in body["fields"].values() for m in messages)


def test_400_for_malformed_json(api_client):
    response = api_client.post("/api/auth/login/", b"{", content_type="application/json")
    assert_error_shape(response, 400, "parse_error")


def test_401_for_missing_credentials(api_client):
    response = api_client.get("/api/auth/me/")
    assert_error_shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_403_for_plain_http():
    response = HttpsAPIClient().get("/api/auth/me/", secure=False)
    assert_error_shape(response, 403, "https_required")


def test_404_for_an_unknown_url_is_json(api_client):
    assert_error_shape(api_client.get("/api/no-such-thing/"), 404, "not_found")
    assert_error_shape(api_client.get("/no-such-page"), 404, "not_found")


def test_404_for_an_unknown_object_is_json(jwt_client):
    assert_error_shape(jwt_client.get(f"/api/activity/{new_id('evt')}/"), 404, "not_found")


def test_405_for_a_wrong_method(api_client):
    assert_error_shape(api_client.get("/api/auth/login/"), 405, "method_not_allowed")


def test_413_for_a_body_over_one_mebibyte(api_client):
    body = b'{"email": "' + b"a" * (1024 * 1024) + b'"}'
    response = api_client.post("/api/auth/login/", body, content_type="application/json")
    assert_error_shape(response, 413, "request_too_large")


def test_415_for_a_wrong_content_type(api_client):
    response = api_client.post("/api/auth/login/", b"<x/>", content_type="application/xml")
    assert_error_shape(response, 415, "unsupported_media_type")


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_bodies_are_camel_case_with_prefixed_ids(jwt_client, tokens, user):
    assert all(CAMEL.match(key) for key in _keys(tokens)), _keys(tokens)
    assert is_valid_id(tokens["user"]["id"], "usr")
    assert is_valid_id(tokens["user"]["workspaceId"], "ws")
    activity = jwt_client.get("/api/activity/").json()
    assert activity["results"], activity
    assert all(CAMEL.match(key) for key in _keys(activity)), _keys(activity)
    for event in activity["results"]:
        assert is_valid_id(event["id"], "evt")
        assert is_valid_id(event["actorId"], "usr")


def test_lists_have_the_cursor_envelope(jwt_client):
    body = jwt_client.get("/api/activity/").json()
    assert set(body) == {"next", "previous", "results"}


@pytest.mark.parametrize("size", ["0", "201", "-1", "abc", "1.5", ""])
def test_page_size_out_of_range_is_400(jwt_client, size):
    response = jwt_client.get("/api/activity/", {"pageSize": size})
    body = assert_error_shape(response, 400)
    assert "pageSize" in body["fields"]


@pytest.mark.parametrize("size", ["1", "200"])
def test_page_size_bounds_are_accepted(jwt_client, size):
    assert jwt_client.get("/api/activity/", {"pageSize": size}).status_code == 200


def test_a_bad_cursor_is_400(jwt_client):
    response = jwt_client.get("/api/activity/", {"cursor": "garbage!"})
    assert_error_shape(response, 400)


@pytest.mark.parametrize(
    ("query", "expected"), [({}, 50), ({"pageSize": "1"}, 1), ({"pageSize": "200"}, 200)]
)
def test_cursor_pagination_page_size(query, expected):
    request = Request(APIRequestFactory().get("/", query))
    assert CursorPagination().get_page_size(request) == expected


def test_ids_are_prefixed_ulids():
    value = new_id("usr")
    assert is_valid_id(value, "usr")
    assert not is_valid_id(value, "ws")
    assert not is_valid_id("usr_not-a-ulid", "usr")
    assert not is_valid_id(None, "usr")


@pytest.mark.parametrize("size", ["²", "١٢", "1e3", " 5", "\uff15"], ids=str)
def test_page_size_must_be_ascii_digits(jwt_client, size):
    response = jwt_client.get("/api/activity/", {"pageSize": size})
    assert_error_shape(response, 400)


@pytest.mark.parametrize("body", [[], "text", 5], ids=["list", "string", "number"])
def test_a_body_that_is_not_an_object_is_400_without_snake_case_fields(api_client, body):
    response = api_client.post("/api/auth/login/", body, format="json")
    body = assert_error_shape(response, 400, "invalid")
    assert "Expected a dictionary" in body["detail"]
    assert all(CAMEL.match(name) for name in body["fields"])
