"""Attack battery against a live gunicorn: forged and misused credentials, injection, oversized
input. Every attempt must be denied with a 4xx JSON `{detail, code}` and none may reach a view,
which is proved by side effects: no contact, refresh token, activity event or API key is
created, no session is revoked, and no API-key usage row records a success.

The test process signs tokens with settings.JWT_SIGNING_KEY, the server's own key (both derive
from the same DJANGO_SECRET_KEY / JWT_SIGNING_KEY environment): a control token with valid
claims is accepted, so each refusal below is down to the one defect the attack introduces.

Run with `-s` to see the per-family tally; the summary line is printed in any case.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import socket
import statistics
import time
from collections import Counter
from datetime import timedelta

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.utils import timezone
from ulid import ULID

from accounts.models import RefreshTokenRecord, User
from activity.models import ActivityEvent
from apikeys import crypto
from apikeys.models import ApiKey, ApiKeyUsage
from contacts.models import Contact
from tests.factories import PASSWORD, make_user, make_workspace
from tests.reliability.harness import (
    OPEN_THROTTLES,
    SUMMARY,
    Client,
    create_api_key,
    leaks,
    live_server,
    login,
)

pytestmark = pytest.mark.django_db(transaction=True)

TALLY: Counter = Counter()
FAMILIES: Counter = Counter()

SQL_INJECTION = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "admin@example.com'--",
    "'; DROP TABLE contacts_contact; --",
    '" OR ""="',
    "1; SELECT pg_sleep(5); --",
    "' UNION SELECT id, email, password FROM accounts_user --",
    "\\'; TRUNCATE accounts_user CASCADE; --",
    "%' AND 1=0 UNION SELECT NULL --",
    "$1",
    "%s%s%s%s",
    "{{7*7}}",
    "${jndi:ldap://x/a}",
]
JSON_INJECTION: list = [
    {"$ne": None},
    {"$gt": ""},
    ["a", "b"],
    None,
    True,
    123456789,
    1.5e308,
    {"__proto__": {"is_staff": True}},
    "\u0000",
    "a\u0000b@example.com",
    "a\ud83d@example.com",  # a lone surrogate: not encodable as UTF-8
    "a" * 5000,
]


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    yield
    families = ", ".join(f"{name}: {n}" for name, n in sorted(FAMILIES.items()))
    line = (
        f"attacks: {TALLY['tried']} tried, {TALLY['denied']} denied with 4xx JSON, "
        f"{TALLY['neutralised']} neutralised (stored verbatim / ignored), "
        f"{TALLY['tried'] - TALLY['denied'] - TALLY['neutralised']} not; by family: {families}"
    )
    SUMMARY.append(line)


# --- evidence ---------------------------------------------------------------------------------


def side_effects() -> dict:
    """Everything a view that ran would have changed."""
    return {
        "contacts": Contact.objects.count(),
        "contact_edits": list(Contact.objects.order_by("id").values_list("id", "updated_at")),
        "refresh_tokens": RefreshTokenRecord.objects.count(),
        "revoked_tokens": RefreshTokenRecord.objects.filter(revoked_at__isnull=False).count(),
        "events": ActivityEvent.objects.exclude(action="auth.login_failed").count(),
        "api_keys": ApiKey.objects.count(),
        "revoked_keys": ApiKey.objects.filter(revoked_at__isnull=False).count(),
        "sessions_cut": list(User.objects.order_by("id").values_list("id", "tokens_valid_after")),
        "usage_successes": ApiKeyUsage.objects.filter(status__lt=400).count(),
    }


class Battery:
    """Counts attempts and checks each denial: a 4xx, a JSON {detail, code}, nothing leaked."""

    def __init__(self, family: str) -> None:
        self.family = family
        self.failures: list[str] = []

    def denied(self, name: str, response, *, allowed: tuple[int, ...] | None = None) -> None:
        TALLY["tried"] += 1
        FAMILIES[self.family] += 1
        status = response.status_code
        problem = ""
        if not 400 <= status < 500 or (allowed and status not in allowed):
            problem = f"status {status}"
        else:
            try:
                body = response.json()
                if not isinstance(body.get("detail"), str) or not isinstance(body.get("code"), str):
                    problem = f"error body without detail/code: {response.text[:200]}"
            except ValueError:
                problem = f"non-JSON error body: {response.text[:200]!r}"
        found = leaks(response.content)
        if found:
            problem += f" leaks {found}"
        if problem:
            self.failures.append(f"{self.family}/{name}: {problem}")
        else:
            TALLY["denied"] += 1

    def neutralised(self, name: str, ok: bool, detail: str = "") -> None:
        TALLY["tried"] += 1
        FAMILIES[self.family] += 1
        if ok:
            TALLY["neutralised"] += 1
        else:
            self.failures.append(f"{self.family}/{name}: {detail}")

    def check(self) -> None:
        assert not self.failures, "\n".join(self.failures)


# --- token forging ----------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: dict) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


_HMAC = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
ATTACKER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ATTACKER_PUBLIC_PEM = ATTACKER_RSA.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def forge(
    payload: dict,
    *,
    alg: str = "HS256",
    key: bytes | None = None,
    header: dict | None = None,
    signer: str | None = None,
) -> str:
    """A JWT with any header and payload; signed with `signer`'s algorithm (default: alg's)."""
    head = {"alg": alg, "typ": "JWT", **(header or {})}
    signing_input = f"{_segment(head)}.{_segment(payload)}"
    signer = signer or alg
    if signer == "none":
        return signing_input + "."
    if signer == "RS256":
        signature = ATTACKER_RSA.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    else:
        key = settings.JWT_SIGNING_KEY.encode() if key is None else key
        signature = hmac.new(key, signing_input.encode(), _HMAC[signer]).digest()
    return f"{signing_input}.{_b64(signature)}"


def claims(uid: str, token_type: str = "access", **overrides) -> dict:
    now = int(time.time())
    base = {
        "token_type": token_type,
        "exp": now + 3600,
        "iat": now,
        "jti": str(ULID.from_timestamp(now * 1000)),  # int ms: jti and iat from one instant
        "user_id": uid,
        "iss": settings.JWT_ISSUER,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def tamper(token: str, **changes) -> str:
    """A genuine token whose payload is edited while its original signature is kept."""
    head, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    return f"{head}.{_segment(data)}.{signature}"


# --- the battery ------------------------------------------------------------------------------


@pytest.fixture
def world():
    acme = make_workspace("Acme")
    owner = make_user(acme, email="owner@acme.example")
    colleague = make_user(acme, email="colleague@acme.example")
    outsider_ws = make_workspace("Outsider")
    outsider = make_user(outsider_ws, email="outsider@out.example")
    return {"owner": owner, "colleague": colleague, "outsider": outsider}


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_forged_and_misused_jwts_are_refused_before_any_view(world):
    owner = world["owner"]
    battery = Battery("jwt")
    with live_server(env=OPEN_THROTTLES) as server, Client(server.url) as http:
        pair = login(server.url, owner.email, PASSWORD)
        access, refresh = pair["access"], pair["refresh"]
        live_sid = pyjwt.decode(access, options={"verify_signature": False})["sid"]

        def live_claims(uid: str, token_type: str = "access", **overrides) -> dict:
            """Claims naming the owner's live session, so each attack isolates one defect."""
            return claims(uid, token_type, **{"sid": live_sid, **overrides})

        # Control: a token we sign with valid claims is accepted, so the key is the server's.
        control = http.get("/api/auth/me/", headers=_bearer(forge(live_claims(owner.pk))))
        assert control.status_code == 200, control.text
        before = side_effects()

        uid = owner.pk
        now = int(time.time())
        attacks = {
            "alg none": forge(live_claims(uid), alg="none", signer="none"),
            "alg None": forge(live_claims(uid), alg="None", signer="none"),
            "alg NONE with signature": forge(live_claims(uid), alg="NONE", signer="HS256"),
            "HS256 wrong key": forge(live_claims(uid), key=b"not-the-server-key"),
            "HS256 empty key": forge(live_claims(uid), key=b""),
            "HS384 right key": forge(live_claims(uid), alg="HS384"),
            "HS512 right key": forge(live_claims(uid), alg="HS512"),
            "RS256 attacker key": forge(live_claims(uid), alg="RS256"),
            "RS256 embedded jwk": forge(
                live_claims(uid),
                alg="RS256",
                header={"jwk": json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(ATTACKER_RSA))},
            ),
            "RS256 jku": forge(live_claims(uid), alg="RS256", header={"jku": "https://evil/jwks"}),
            "HS256 keyed with attacker public PEM (RS/HS confusion)": forge(
                live_claims(uid), key=ATTACKER_PUBLIC_PEM
            ),
            "alg RS256 but HMAC-signed with server key (RS/HS confusion)": forge(
                live_claims(uid), alg="RS256", signer="HS256"
            ),
            "kid path traversal": forge(
                live_claims(uid), key=b"", header={"kid": "../../../../dev/null"}
            ),
            "tampered user_id": tamper(access, user_id=world["colleague"].pk),
            "tampered exp": tamper(access, exp=now + 10**8),
            "tampered token_type": tamper(refresh, token_type="access"),
            "tampered extra workspace claim": tamper(access, workspace_id="ws_x", is_staff=True),
            "signature stripped": access.rsplit(".", 1)[0] + ".",
            "signature of another token": access.rsplit(".", 1)[0]
            + "."
            + refresh.rsplit(".", 1)[1],
            "refresh token as access": refresh,
            "missing exp": forge(live_claims(uid, exp=...)),
            "missing iat": forge(live_claims(uid, iat=...)),
            "missing jti": forge(live_claims(uid, jti=...)),
            "missing token_type": forge(live_claims(uid, token_type=...)),
            "missing iss": forge(live_claims(uid, iss=...)),
            "missing user_id": forge(live_claims(uid, user_id=...)),
            "expired by 1 s": forge(live_claims(uid, exp=now - 1, iat=now - 3601)),
            "expired long ago": forge(live_claims(uid, exp=1, iat=0)),
            "nbf in the future": forge(live_claims(uid, nbf=now + 3600)),
            "iat in the future": forge(live_claims(uid, iat=now + 3600, exp=now + 7200)),
            "wrong iss": forge(live_claims(uid, iss="https://evil.example")),
            "empty iss": forge(live_claims(uid, iss="")),
            "iss as list": forge(live_claims(uid, iss=[settings.JWT_ISSUER, "evil"])),
            "token_type admin": forge(live_claims(uid, token_type="admin")),
            "exp as string": forge(live_claims(uid, exp=str(now + 3600))),
            "exp beyond year 9999": forge(live_claims(uid, exp=10**12)),
            "exp as float 1e300": forge(live_claims(uid, exp=1e300)),
            "exp as list": forge(live_claims(uid, exp=[now + 3600])),
            "user_id unknown": forge(live_claims("usr_01HZZZZZZZZZZZZZZZZZZZZZZZ")),
            "user_id SQL": forge(live_claims("' OR '1'='1")),
            "user_id object": forge(live_claims({"$ne": None})),
            "system user": forge(
                live_claims(User.objects.get(workspace=owner.workspace, is_system=True).pk)
            ),
            "jti not a ULID": forge(live_claims(uid, jti="' OR 1=1 --")),
            "jti before logout-all": "",  # filled below
            "garbage": "not.a.jwt",
            "two segments": "eyJhbGciOiJIUzI1NiJ9.e30",
            "four segments": access + ".AAAA",
            "bad base64": "eyJ!!!.eyJ???.sig",
            "header not JSON": _b64(b"hello") + "." + _segment(claims(uid)) + ".sig",
            "payload is a list": _segment({"alg": "HS256"}) + "." + _b64(b"[1,2]") + ".x",
            "pk_ prefixed JWT": "pk_" + access,
            "missing sid": forge(live_claims(uid, sid=...)),
            "sid unknown": forge(live_claims(uid, sid="ses_01HZZZZZZZZZZZZZZZZZZZZZZZ")),
            "sid as object": forge(live_claims(uid, sid={"$ne": None})),
            "sid of another person's session": "",  # filled below
        }
        # A user whose sessions were cut: an old token (jti before tokens_valid_after) is dead.
        colleague = world["colleague"]
        stale = login(server.url, colleague.email, PASSWORD)["access"]
        User.objects.filter(pk=colleague.pk).update(tokens_valid_after=int(time.time() * 1000) + 5)
        attacks["jti before logout-all"] = stale
        colleague_sid = pyjwt.decode(stale, options={"verify_signature": False})["sid"]
        attacks["sid of another person's session"] = forge(live_claims(uid, sid=colleague_sid))
        before = side_effects()

        for name, token in attacks.items():
            for method, path, body in (
                ("GET", "/api/auth/me/", None),
                ("POST", "/api/contacts/", {"firstName": "Mallory"}),
                ("POST", "/api/auth/logout-all/", None),
            ):
                response = http.request(method, path, json=body, headers=_bearer(token))
                battery.denied(f"{name} -> {method} {path}", response, allowed=(401,))
                if response.status_code == 401 and "WWW-Authenticate" not in response.headers:
                    battery.failures.append(f"jwt/{name}: 401 without WWW-Authenticate")

        # The refresh endpoint: access tokens, forged refresh tokens, claim defects.
        refresh_attacks = {
            "access token as refresh": access,
            "refresh alg none": forge(claims(uid, "refresh"), alg="none", signer="none"),
            "refresh wrong key": forge(claims(uid, "refresh"), key=b"wrong"),
            "refresh tampered user_id": tamper(refresh, user_id=world["colleague"].pk),
            "refresh tampered exp": tamper(refresh, exp=now + 10**9),
            "refresh unknown jti (validly signed)": forge(claims(uid, "refresh")),
            "refresh jti SQL (validly signed)": forge(claims(uid, "refresh", jti="' OR 1=1--")),
            "refresh expired": forge(claims(uid, "refresh", exp=now - 1, iat=now - 10)),
            "refresh wrong iss": forge(claims(uid, "refresh", iss="evil")),
            "refresh nbf future": forge(claims(uid, "refresh", nbf=now + 600)),
        }
        for name, token in refresh_attacks.items():
            response = http.post("/api/auth/token/refresh/", json={"refresh": token})
            battery.denied(name, response, allowed=(401,))
        for name, token in (("logout with access", access), ("logout forged", attacks["alg none"])):
            battery.denied(name, http.post("/api/auth/logout/", json={"refresh": token}))

        # Credentials anywhere but the Authorization header are ignored.
        for name, params in (
            ("access_token query", {"access_token": access}),
            ("token query", {"token": access}),
            ("jwt query", {"jwt": access}),
            ("Authorization query", {"Authorization": f"Bearer {access}"}),
        ):
            battery.denied(name, http.get("/api/auth/me/", params=params), allowed=(401,))
        battery.denied(
            "token in cookie", http.get("/api/auth/me/", cookies={"access": access}), allowed=(401,)
        )

        # Malformed Authorization headers (those gunicorn itself parses are tested below).
        malformed = {
            "empty": "",
            "scheme only": "Bearer",
            "scheme and spaces": "Bearer    ",
            "two tokens": f"Bearer {access} {access}",
            "Basic": "Basic " + base64.b64encode(f"{owner.email}:{PASSWORD}".encode()).decode(),
            "Token scheme": f"Token {access}",
            "JWT scheme": f"JWT {access}",
            "no scheme": access,
            "comma joined": f"Bearer {access}, Bearer {access}",
            "5 KB token": "Bearer " + "A" * 5000,
            "8 KB token": "Bearer " + "A" * 8000,
            "latin-1 bytes": "Bearer \xff\xfe\xfd",
            "tab separator": f"Bearer\t{access}",
        }
        for name, value in malformed.items():
            response = http.get("/api/auth/me/", headers={"Authorization": value})
            battery.denied(f"header {name}", response, allowed=(401,))
        after = side_effects()
    battery.check()
    assert after == before, "an attack reached a view"


def test_api_key_attacks_are_refused_and_never_logged_as_success(world):
    battery = Battery("api key")
    owner, outsider = world["owner"], world["outsider"]
    with live_server(env=OPEN_THROTTLES) as server, Client(server.url) as http:
        access = login(server.url, owner.email, PASSWORD)["access"]
        key = create_api_key(server.url, access, "genuine")["key"]
        revoked = create_api_key(server.url, access, "to revoke")
        expired = create_api_key(server.url, access, "to expire")
        outsider_access = login(server.url, outsider.email, PASSWORD)["access"]
        outsider_key = create_api_key(server.url, outsider_access, "outsider")["key"]
        with Client(server.url, token=access) as owner_http:
            contact = owner_http.post("/api/contacts/", json={"firstName": "Ada"}).json()
            assert owner_http.post(f"/api/api-keys/{revoked['id']}/revoke/").status_code == 200
        ApiKey.objects.filter(pk=expired["id"]).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        assert http.get("/api/contacts/", headers=_bearer(key)).status_code == 200  # control
        before = side_effects()

        body = key[: -crypto.CHECKSUM_LENGTH]
        secret_start = len(crypto.KEY_PREFIX) + 26

        def flip(text: str, index: int) -> str:
            swapped = "B" if text[index] != "B" else "C"
            return text[:index] + swapped + text[index + 1 :]

        forged_secret = flip(body, secret_start + 5)
        attacks = {
            "flipped char in secret": flip(key, secret_start + 3),
            "flipped char in id": flip(key, len(crypto.KEY_PREFIX) + 10),
            "flipped char in checksum": flip(key, len(key) - 2),
            "bad checksum": body + "000000",
            "forged secret with a valid checksum": forged_secret + crypto.checksum(forged_secret),
            "truncated": key[:-1],
            "extended": key + "A",
            "lowercased": key.lower(),
            "pk_test_ prefix": key.replace("pk_live_", "pk_test_"),
            "prefix only": "pk_live_",
            "pk_ SQL": "pk_live_' OR '1'='1",
            "revoked key": revoked["key"],
            "expired key": expired["key"],
        }
        for name, value in attacks.items():
            for method, path, payload in (
                ("GET", "/api/contacts/", None),
                ("POST", "/api/contacts/", {"firstName": "Mallory"}),
                ("DELETE", f"/api/contacts/{contact['id']}/", None),
            ):
                response = http.request(method, path, json=payload, headers=_bearer(value))
                battery.denied(f"{name} -> {method} {path}", response, allowed=(401,))
        for name, params in (("api_key query", {"api_key": key}), ("key query", {"key": key})):
            battery.denied(name, http.get("/api/contacts/", params=params), allowed=(401,))

        # Another workspace's genuine key: the owner's contact does not exist for it.
        for method, payload in (("GET", None), ("PATCH", {"notes": "pwned"}), ("DELETE", None)):
            response = http.request(
                method,
                f"/api/contacts/{contact['id']}/",
                json=payload,
                headers=_bearer(outsider_key),
            )
            battery.denied(f"other workspace key {method} contact", response, allowed=(404,))
        listing = http.get("/api/contacts/", headers=_bearer(outsider_key)).json()
        battery.neutralised(
            "other workspace key lists only its own",
            all(item["id"] != contact["id"] for item in listing["results"]),
            "the owner's contact is listed for an outsider key",
        )
        # A genuine key may not manage keys (people only), not even its own workspace's.
        for method, path in (
            ("GET", "/api/api-keys/"),
            ("POST", "/api/api-keys/"),
            ("POST", f"/api/api-keys/{revoked['id']}/revoke/"),
            ("POST", "/api/auth/logout-all/"),
            ("POST", "/api/auth/password/"),
        ):
            response = http.request(
                method,
                path,
                json={"name": "x"} if path == "/api/api-keys/" else None,
                headers=_bearer(key),
            )
            battery.denied(f"key on {method} {path}", response, allowed=(403,))
        after = side_effects()
        outsider_after = http.get("/api/contacts/", headers=_bearer(outsider_key)).json()
    battery.check()
    # The genuine outsider key's own 200/404 usage rows are expected; nothing else changed.
    assert {k: v for k, v in after.items() if k != "usage_successes"} == {
        k: v for k, v in before.items() if k != "usage_successes"
    }
    successes = ApiKeyUsage.objects.filter(status__lt=400).exclude(
        api_key__workspace=outsider.workspace
    )
    assert successes.count() == before["usage_successes"], "an attack was logged as a success"
    assert ApiKeyUsage.objects.filter(api_key_id=revoked["id"], status=401).exists()
    assert outsider_after["results"] == []
    assert Contact.objects.filter(pk=contact["id"], notes="").exists()


def test_a_restricted_key_stays_inside_its_scopes_and_addresses(world):
    battery = Battery("key scopes")
    owner = world["owner"]
    with live_server(env=OPEN_THROTTLES) as server, Client(server.url) as http:
        access = login(server.url, owner.email, PASSWORD)["access"]
        with Client(server.url, token=access) as owner_http:
            contact = owner_http.post("/api/contacts/", json={"firstName": "Ada"}).json()
            reader = owner_http.post(
                "/api/api-keys/", json={"name": "reader", "scopes": ["contacts:read"]}
            ).json()
            pinned = owner_http.post(
                "/api/api-keys/", json={"name": "pinned", "allowedIps": ["203.0.113.0/24"]}
            ).json()
        # Controls: each key works where it should.
        assert http.get("/api/contacts/", headers=_bearer(reader["key"])).status_code == 200
        at_home = {**_bearer(pinned["key"]), "X-Forwarded-For": "203.0.113.5"}
        assert http.get("/api/contacts/", headers=at_home).status_code == 200
        before = side_effects()
        contact_url = f"/api/contacts/{contact['id']}/"
        for method, path, payload in (
            ("POST", "/api/contacts/", {"firstName": "Mallory"}),
            ("PUT", contact_url, {"firstName": "Mallory"}),
            ("PATCH", contact_url, {"notes": "pwned"}),
            ("DELETE", contact_url, None),
            ("GET", "/api/activity/", None),
            ("PATCH", f"/api/api-keys/{reader['id']}/", {"scopes": ["contacts:write"]}),
        ):
            response = http.request(method, path, json=payload, headers=_bearer(reader["key"]))
            battery.denied(f"contacts:read key {method} {path}", response, allowed=(403,))
        wrong_codes = []
        for forwarded in ("198.51.100.7", "203.0.114.5", "::ffff:198.51.100.7", "2001:db8::1"):
            for method, path, payload in (
                ("GET", "/api/contacts/", None),
                ("POST", "/api/contacts/", {"firstName": "Mallory"}),
                ("GET", "/api/activity/", None),
            ):
                headers = {**_bearer(pinned["key"]), "X-Forwarded-For": forwarded}
                response = http.request(method, path, json=payload, headers=headers)
                battery.denied(
                    f"pinned key from {forwarded} {method} {path}", response, allowed=(403,)
                )
                if response.json().get("code") != "ip_not_allowed":
                    wrong_codes.append((forwarded, method, path, response.text[:200]))
        # An allowlisted address prepended by the client is not the proxy's entry.
        spoofed = {**_bearer(pinned["key"]), "X-Forwarded-For": "203.0.113.5, 198.51.100.7"}
        battery.denied(
            "prepended allowlisted address",
            http.get("/api/contacts/", headers=spoofed),
            allowed=(403,),
        )
        after = side_effects()
    battery.check()
    assert after == before, "a refused request changed something"
    assert wrong_codes == []
    assert ApiKeyUsage.objects.filter(api_key_id=reader["id"], status=403).count() == 6
    assert ApiKeyUsage.objects.filter(api_key_id=pinned["id"], status=403).count() == 13


def test_injection_strings_in_every_field_are_refused_or_stored_verbatim(world):
    owner = world["owner"]
    battery = Battery("injection")
    with live_server(env=OPEN_THROTTLES) as server, Client(server.url) as http:
        pair = login(server.url, owner.email, PASSWORD)
        before = side_effects()
        values = SQL_INJECTION + JSON_INJECTION
        # Login: every value in every field, and the right email with an injected password.
        for value in values:
            for body in (
                {"email": value, "password": PASSWORD},
                {"email": owner.email, "password": value},
                {"email": value, "password": value},
            ):
                response = http.post("/api/auth/login/", json=body)
                battery.denied(f"login {body!r:.60}", response, allowed=(400, 401))
            response = http.post("/api/auth/token/refresh/", json={"refresh": value})
            battery.denied(f"refresh {value!r:.40}", response, allowed=(400, 401))
            response = http.post("/api/auth/logout/", json={"refresh": value})
            battery.denied(f"logout {value!r:.40}", response, allowed=(400, 401))
        for raw in (
            b'{"email": "a@b.c", "password": "x", "email": "' + owner.email.encode() + b'"}',
            b'{"email": {"$regex": ".*"}, "password": {"$ne": null}}',
            b"[]",
            b'"string"',
            b"null",
            b'{"email": NaN, "password": Infinity}',
            b"\xff\xfe\x00{",
            b"{" * 50_000,
            b"[" * 200_000 + b"]" * 200_000,
        ):
            response = http.post(
                "/api/auth/login/", data=raw, headers={"Content-Type": "application/json"}
            )
            battery.denied(f"login raw {raw[:30]!r}", response, allowed=(400, 401))
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "text/xml"):
            response = http.post(
                "/api/auth/login/",
                data=f"email={owner.email}&password={PASSWORD}",
                headers={"Content-Type": content_type},
            )
            battery.denied(f"login as {content_type}", response, allowed=(415,))
        after_auth = side_effects()

        # Contacts: strings are data. Each is stored and returned exactly, nothing else runs.
        with Client(server.url, token=pair["access"]) as api:
            fields = ("firstName", "lastName", "phone", "company", "notes")
            created = []
            for value in SQL_INJECTION:
                for field in fields:
                    payload = {"firstName": "Bobby", field: value}
                    response = api.post("/api/contacts/", json=payload)
                    if response.status_code == 201:
                        created.append(response.json()["id"])
                        fetched = api.get(f"/api/contacts/{response.json()['id']}/").json()
                        battery.neutralised(
                            f"contact {field}={value!r}",
                            fetched[field] == value,
                            f"stored {fetched[field]!r}",
                        )
                    else:
                        battery.denied(f"contact {field}={value!r}", response, allowed=(400,))
                response = api.post("/api/contacts/", json={"firstName": "x", "email": value})
                battery.denied(f"contact email={value!r}", response, allowed=(400,))
            for value in JSON_INJECTION:
                if isinstance(value, str):
                    continue
                for field in (*fields, "email"):
                    response = api.post("/api/contacts/", json={"firstName": "x", field: value})
                    battery.denied(f"contact {field}={value!r:.40}", response, allowed=(400,))
            for extra in ("id", "workspace", "workspaceId", "createdAt", "createdBy", "is_staff"):
                response = api.post("/api/contacts/", json={"firstName": "x", extra: "ws_evil"})
                battery.denied(f"contact extra field {extra}", response, allowed=(400,))
            for value in SQL_INJECTION:
                listing = api.get("/api/contacts/", params={"search": value})
                battery.neutralised(
                    f"search {value!r}",
                    listing.status_code in (200, 400) and not leaks(listing.content),
                    f"status {listing.status_code}",
                )
                for param in ("ordering", "cursor", "pageSize"):
                    response = api.get("/api/contacts/", params={param: value})
                    battery.denied(f"{param}={value!r}", response, allowed=(400,))
                for path in (f"/api/contacts/{value}/", f"/api/contacts/ct_{value}/"):
                    response = api.get(path.replace("/", "%2F").replace("%2Fapi%2F", "/api/", 1))
                    battery.denied(f"path {value!r}", response, allowed=(400, 404))
            total = Contact.objects.count()
        battery.check()
        assert after_auth == before, "an injection reached a view of the auth endpoints"
        assert total == before["contacts"] + len(created), "injection created or removed rows"
        assert User.objects.count() == 5  # three people + two system users, all intact


def test_oversized_bodies_are_refused_with_413_before_parsing(world):
    owner = world["owner"]
    battery = Battery("oversize")
    with live_server(env=OPEN_THROTTLES) as server:
        access = login(server.url, owner.email, PASSWORD)["access"]
        before = side_effects()
        big = json.dumps({"firstName": "x", "notes": "A" * (1024 * 1024 + 1)}).encode()
        with Client(server.url, token=access) as api:
            # A refused body is not read: gthread drains at most 64 KiB of it and then closes the
            # keep-alive connection, so each oversized request asks for a connection of its own.
            closing = {"Content-Type": "application/json", "Connection": "close"}
            for path in ("/api/contacts/", "/api/auth/login/", "/api/auth/token/refresh/"):
                response = api.post(path, data=big, headers=closing)
                battery.denied(f"1 MiB + body {path}", response, allowed=(413,))
            # A Content-Length that announces 100 MiB is refused before a byte is read.
            status, body = raw_request(
                server.port,
                b"POST /api/contacts/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"X-Forwarded-Proto: https\r\nAuthorization: Bearer "
                + access.encode()
                + b"\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n{",
            )
            battery.denied("announced 100 MiB", FakeResponse(status, body), allowed=(413,))
            # Chunked bodies carry no Content-Length: they must not bypass the limit.
            status, body = raw_request(
                server.port,
                b"POST /api/contacts/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"X-Forwarded-Proto: https\r\nAuthorization: Bearer "
                + access.encode()
                + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + _chunked(big),
            )
            battery.denied("chunked 1 MiB +", FakeResponse(status, body), allowed=(400, 411, 413))
            # Just under the limit is fine (a real, maximal request is served).
            fits = json.dumps({"firstName": "x", "notes": "A" * 9_000}).encode()
            ok = api.post("/api/contacts/", data=fits, headers={"Content-Type": "application/json"})
            assert ok.status_code == 201, ok.text
        after = side_effects()
    battery.check()
    assert after["contacts"] == before["contacts"] + 1


def test_malformed_requests_refused_by_gunicorn_still_answer_json(world):
    """Requests gunicorn's parser refuses (a 64 KB header, a bad header line) are 4xx too, and
    their body should follow the contract ({detail, code} JSON, no HTML error page)."""
    battery = Battery("malformed http")
    with live_server(env=OPEN_THROTTLES) as server:
        before = side_effects()
        cases = {
            "64 KB Authorization": b"Authorization: Bearer " + b"A" * 65536 + b"\r\n",
            "header name with bad chars": b"gj*!: x\r\n",
            "header line without colon": b"nK|;\r\n",
            "NUL in Authorization": b"Authorization: Bearer ab\x00cd\r\n",
            "150 headers": b"".join(b"X-H%d: v\r\n" % i for i in range(150)),
        }
        for name, header in cases.items():
            status, body = raw_request(
                server.port,
                b"GET /api/auth/me/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
                + header
                + b"\r\n",
            )
            battery.denied(name, FakeResponse(status, body))
        after = side_effects()
    assert after == before
    battery.check()


def test_unknown_email_and_wrong_password_are_indistinguishable(world):
    """Same status, same body, and the same work: an unknown email is hashed like a real one.

    The timing comparison only catches an order-of-magnitude gap (a skipped hash makes the
    unknown-email path ~50x faster); medians of interleaved samples, loose bound, no flakiness.
    """
    owner = world["owner"]
    battery = Battery("enumeration")
    with live_server(env=OPEN_THROTTLES) as server, Client(server.url) as http:
        login(server.url, owner.email, PASSWORD)  # warm up the worker and the dummy hash
        probes = {
            "wrong password": {"email": owner.email, "password": "wrong password 123"},
            "unknown email": {"email": "nobody@acme.example", "password": "wrong password 123"},
            "system user": {
                "email": User.objects.get(workspace=owner.workspace, is_system=True).email,
                "password": "wrong password 123",
            },
        }
        timings: dict[str, list[float]] = {name: [] for name in probes}
        bodies: dict[str, set] = {name: set() for name in probes}
        for _ in range(12):
            for name, body in probes.items():
                started = time.perf_counter()
                response = http.post("/api/auth/login/", json=body)
                timings[name].append(time.perf_counter() - started)
                battery.denied(name, response, allowed=(401,))
                bodies[name].add((response.status_code, response.content))
                headers = {k: v for k, v in response.headers.items() if k not in ("Date",)}
                headers.pop("X-Request-ID", None)
                bodies[name].add(tuple(sorted(headers.items())))
    battery.check()
    assert bodies["wrong password"] == bodies["unknown email"] == bodies["system user"]
    medians = {name: statistics.median(values) for name, values in timings.items()}
    SUMMARY.append(
        "login timing medians (ms): "
        + ", ".join(f"{name} {value * 1000:.1f}" for name, value in medians.items())
    )
    slowest, fastest = max(medians.values()), min(medians.values())
    assert slowest < 3 * fastest, f"login time tells accounts apart: {medians}"


# --- raw HTTP ---------------------------------------------------------------------------------


class FakeResponse:
    """What Battery.denied needs from a response read off a raw socket."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status_code = status
        self.content = body
        self.text = body.decode(errors="replace")
        self.headers: dict = {}

    def json(self):
        return json.loads(self.content)


def _chunked(data: bytes, size: int = 65536) -> bytes:
    out = b""
    for start in range(0, len(data), size):
        piece = data[start : start + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def raw_request(port: int, request: bytes, timeout: float = 10) -> tuple[int, bytes]:
    """Send bytes as they are (no client-side validation); the status and body received."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        # The server may answer and close before reading everything: that is fine.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        data = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                head, sep, rest = data.partition(b"\r\n\r\n")
                if sep and rest.endswith(b"0\r\n\r\n"):
                    break
                if sep:
                    length = [
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ]
                    if length and len(rest) >= length[0]:
                        break
        except (TimeoutError, ConnectionResetError):
            pass
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    if b"transfer-encoding: chunked" in head.lower():
        body = _dechunk(body)
    return status, body


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, data = out + rest[:size], rest[size + 2 :]
    return out
