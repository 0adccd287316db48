"""StaticPolicyCSPMiddleware: django-csp's header, built once from settings instead of twice per
response, and django-csp's own path for anything a response asks for itself."""

import csp.middleware
import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONE, SELF
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from parsalink.core import middleware
from parsalink.core.middleware import StaticPolicyCSPMiddleware
from tests.clients import HttpsAPIClient
from tests.factories import make_contact
from tests.page_clients import HttpsClient

pytestmark = pytest.mark.django_db

OTHER_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "img-src": [SELF, "https://img.example"],
        "frame-ancestors": [NONE],
    }
}


def assert_the_settings_policy(response) -> None:
    assert response[HEADER] == build_policy()
    assert HEADER_REPORT_ONLY not in response


def test_an_api_answer_carries_the_settings_policy(jwt_client, workspace):
    make_contact(workspace)
    response = jwt_client.get("/api/contacts/")
    assert response.status_code == 200
    assert_the_settings_policy(response)


def test_an_unauthenticated_api_answer_carries_the_settings_policy(api_client):
    response = api_client.get("/api/contacts/")
    assert response.status_code == 401
    assert_the_settings_policy(response)


def test_an_html_page_carries_the_settings_policy():
    response = HttpsClient().get("/login/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert_the_settings_policy(response)


@pytest.mark.parametrize("path", ["/api/contacts/ct_missing/", "/api/no-such-thing/", "/nowhere/"])
def test_a_404_carries_the_settings_policy(jwt_client, path):
    response = jwt_client.get(path)
    assert response.status_code == 404
    assert_the_settings_policy(response)


def test_the_https_required_refusal_carries_the_settings_policy():
    response = HttpsAPIClient().get("/api/contacts/", secure=False)
    assert response.status_code == 403 and response.json()["code"] == "https_required"
    assert_the_settings_policy(response)


def test_a_probe_answer_carries_the_settings_policy(api_client):
    response = api_client.get("/healthz")
    assert response.status_code == 200
    assert_the_settings_policy(response)


def test_the_policy_follows_an_overridden_setting_on_the_same_handler(api_client):
    before = api_client.get("/api/contacts/")
    with override_settings(CONTENT_SECURITY_POLICY=OTHER_POLICY):
        during = api_client.get("/api/contacts/")
        expected_during = build_policy()
    after = api_client.get("/api/contacts/")

    assert expected_during != before[HEADER]
    assert during[HEADER] == expected_during
    assert "https://img.example" in during[HEADER]
    assert after[HEADER] == before[HEADER] == build_policy()


def test_no_policy_setting_means_no_header(api_client):
    api_client.get("/api/contacts/")
    with override_settings(CONTENT_SECURITY_POLICY=None):
        response = api_client.get("/api/contacts/")
    assert HEADER not in response


def test_the_header_is_built_once_not_per_response(api_client, monkeypatch):
    """django-csp builds the same constant text twice per response; ours builds it once."""
    calls = []

    def counting_build_policy(*args, **kwargs):
        calls.append(kwargs.get("report_only", False))
        return build_policy(*args, **kwargs)

    monkeypatch.setattr(middleware, "build_policy", counting_build_policy)
    monkeypatch.setattr(csp.middleware, "build_policy", counting_build_policy)
    responses = [api_client.get("/api/contacts/") for _ in range(5)]
    assert {response[HEADER] for response in responses} == {build_policy()}
    assert len(calls) <= 1


# django-csp's own middleware is the reference for everything a response or a setting asks for.


def _answer(status: int = 200, **attributes):
    def view(request):
        response = HttpResponse("ok", status=status)
        for name, value in attributes.items():
            setattr(response, name, value)
        return response

    return view


def _through(middleware_class, view, path: str = "/settings/api-keys/"):
    response = middleware_class(view)(RequestFactory().get(path))
    return {name: response.get(name) for name in (HEADER, HEADER_REPORT_ONLY)}


EXTRA = {"img-src": ["https://cdn.example"]}
PER_RESPONSE = {
    "nothing": {},
    "update": {"_csp_update": EXTRA},
    "replace": {"_csp_replace": {"script-src": ["https://js.example"]}},
    "config": {"_csp_config": {"default-src": [SELF], "connect-src": ["https://api.example"]}},
    "exempt": {"_csp_exempt": True},
    "update_ro": {"_csp_update_ro": EXTRA},
    "config_ro": {"_csp_config_ro": {"default-src": [NONE]}},
    "replace_ro": {"_csp_replace_ro": {"img-src": ["https://ro.example"]}},
    "exempt_ro": {"_csp_exempt_ro": True},
}


@pytest.mark.parametrize("attributes", PER_RESPONSE.values(), ids=PER_RESPONSE.keys())
def test_a_per_response_policy_gets_what_django_csp_gives(attributes):
    view = _answer(**attributes)
    assert _through(StaticPolicyCSPMiddleware, view) == _through(CSPMiddleware, view)


def test_a_per_response_update_is_applied():
    headers = _through(StaticPolicyCSPMiddleware, _answer(_csp_update=EXTRA))
    assert headers[HEADER] == build_policy(update=EXTRA)
    assert "https://cdn.example" in headers[HEADER]


def test_a_per_response_exemption_sends_no_header():
    assert _through(StaticPolicyCSPMiddleware, _answer(_csp_exempt=True))[HEADER] is None


def test_a_header_the_view_set_itself_is_kept():
    view = _answer()

    def own_header(request):
        response = view(request)
        response[HEADER] = "default-src 'none'"
        return response

    headers = _through(StaticPolicyCSPMiddleware, own_header)
    assert headers[HEADER] == "default-src 'none'"
    assert headers == _through(CSPMiddleware, own_header)


REPORT_ONLY = {"DIRECTIVES": {"default-src": [SELF], "report-uri": ["/csp-report/"]}}
EXCLUDED = {**OTHER_POLICY, "EXCLUDE_URL_PREFIXES": ["/settings/"]}


@pytest.mark.parametrize(
    ("overrides", "path", "status"),
    [
        ({"CONTENT_SECURITY_POLICY_REPORT_ONLY": REPORT_ONLY}, "/login/", 200),
        ({"CONTENT_SECURITY_POLICY": EXCLUDED}, "/settings/api-keys/", 200),
        ({"CONTENT_SECURITY_POLICY": EXCLUDED}, "/login/", 200),
        ({"DEBUG": True}, "/nowhere/", 404),
        ({"DEBUG": True}, "/boom/", 500),
        ({"DEBUG": True}, "/login/", 200),
        ({}, "/boom/", 500),
    ],
    ids=[
        "report_only",
        "excluded_prefix",
        "not_excluded",
        "debug_404",
        "debug_500",
        "debug_200",
        "plain_500",
    ],
)
def test_settings_django_csp_reads_give_what_django_csp_gives(overrides, path, status):
    view = _answer(status=status)
    with override_settings(**overrides):
        ours = _through(StaticPolicyCSPMiddleware, view, path)
        theirs = _through(CSPMiddleware, view, path)
    assert ours == theirs


def test_a_report_only_policy_set_later_is_sent_by_the_same_handler(api_client):
    api_client.get("/api/contacts/")
    with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY=REPORT_ONLY):
        response = api_client.get("/api/contacts/")
        expected = build_policy(report_only=True)
    assert response.get(HEADER_REPORT_ONLY) == expected
