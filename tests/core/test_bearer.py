"""parsalink/core/bearer.py: a credential with any whitespace inside (str.isspace's set, over
every code point) is a malformed header, a 401 `invalid_header`; nothing else is refused for it."""

import sys

import pytest
from django.test import RequestFactory
from rest_framework.exceptions import AuthenticationFailed

from parsalink.core.bearer import MAX_TOKEN_LENGTH, bearer_token
from tests.clients import HttpsAPIClient

pytestmark = pytest.mark.django_db  # the autouse cache fixture clears a database cache

WHITESPACE = [chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()]
NOT_WHITESPACE_LOOKALIKES = {
    "zero_width_space": "\u200b",
    "zero_width_joiner": "\u200d",
    "word_joiner": "\u2060",
    "byte_order_mark": "\ufeff",
    "mongolian_vowel_separator": "\u180e",
    "soft_hyphen": "\u00ad",
}


def credential_of(header: str) -> str | None:
    return bearer_token(RequestFactory().get("/", HTTP_AUTHORIZATION=header))


def test_the_whitespace_set_is_the_one_expected():
    """A sanity check of the set the tests below walk: Python's own, with the usual suspects."""
    assert {"\u00a0", "\u2003", "\x1c", "\x1f", "\x85", "\u3000", "\u2028"} <= set(WHITESPACE)
    assert len(WHITESPACE) >= 25


@pytest.mark.parametrize("space", WHITESPACE, ids=[f"U+{ord(c):04X}" for c in WHITESPACE])
def test_a_credential_with_any_whitespace_inside_is_a_malformed_header(space):
    with pytest.raises(AuthenticationFailed) as refused:
        credential_of(f"Bearer abc{space}def")
    assert refused.value.get_codes() == "invalid_header"


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\x1c", "\u3000", "\x85"])
@pytest.mark.parametrize(
    "credential", ["pk_abc{}def", "eyJhbGciOi{}J9.e30.sig"], ids=["key", "jwt"]
)
def test_an_api_request_with_whitespace_inside_the_credential_is_401_invalid_header(
    space, credential
):
    header = f"Bearer {credential.format(space)}"
    response = HttpsAPIClient().get("/api/contacts/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "invalid_header"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "lookalike", NOT_WHITESPACE_LOOKALIKES.values(), ids=NOT_WHITESPACE_LOOKALIKES.keys()
)
def test_a_character_that_only_looks_blank_is_not_whitespace(lookalike):
    assert credential_of(f"Bearer abc{lookalike}def") == f"abc{lookalike}def"


def test_no_other_code_point_is_taken_for_whitespace():
    blank = set(WHITESPACE)
    others = "".join(chr(code) for code in range(sys.maxunicode + 1) if chr(code) not in blank)
    for start in range(0, len(others), MAX_TOKEN_LENGTH):
        chunk = others[start : start + MAX_TOKEN_LENGTH]
        assert credential_of(f"Bearer {chunk}") == chunk, f"from U+{ord(chunk[0]):04X}"


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\x1c", " ", "\t"])
def test_whitespace_around_the_credential_is_trimmed(space):
    assert credential_of(f"Bearer {space}abc{space}") == "abc"
