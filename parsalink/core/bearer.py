"""Reading `Authorization: Bearer …`, shared by the JWT and API-key authentication classes."""

import re

from rest_framework.exceptions import AuthenticationFailed

MAX_TOKEN_LENGTH = 4096
WWW_AUTHENTICATE = 'Bearer realm="api"'
# Bearer credentials in this namespace are API keys (apikeys/crypto.py); the JWT class steps aside.
API_KEY_NAMESPACE = "pk_"
# Any whitespace (str.isspace's set: \s in a str pattern) inside the credential.
_WHITESPACE = re.compile(r"\s")


def bearer_token(request) -> str | None:
    """The bearer credential, None when there is no Bearer header; malformed headers are a 401.

    The scheme is case-insensitive (RFC 7235). Query-string credentials are never read.
    """
    header = request.META.get("HTTP_AUTHORIZATION")
    if not header:
        return None
    scheme, _, credential = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    credential = credential.strip()
    if not credential or len(credential) > MAX_TOKEN_LENGTH or _WHITESPACE.search(credential):
        raise AuthenticationFailed("Malformed Authorization header.", code="invalid_header")
    return credential
