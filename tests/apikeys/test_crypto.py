import hashlib
import hmac
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from apikeys import crypto
from tests.clients import key_client_for

# The shared autouse fixture clears the (database) cache, so every test here needs the DB.
pytestmark = pytest.mark.django_db

PROBE = "/api/api-keys/"


def test_generated_key_round_trips_through_parse():
    new = crypto.generate()
    assert len(new.plain) == crypto.KEY_LENGTH == 72
    parsed = crypto.parse(new.plain)
    assert parsed is not None and parsed.key_id == new.key_id
    assert crypto.secret_matches(parsed.secret, new.secret_hash)
    assert new.last_four == new.plain[-4:]


def test_secrets_are_unique_and_carry_at_least_160_bits():
    keys = {crypto.generate().plain[34:66] for _ in range(200)}
    assert len(keys) == 200
    assert crypto.SECRET_LENGTH * 5.954 >= 160  # log2(62) bits per base62 character


def test_it_rejects_every_single_character_typo():
    plain = crypto.generate().plain
    for i in range(len("pk_live_"), len(plain)):
        replacement = "0" if plain[i] != "0" else "1"
        assert crypto.parse(plain[:i] + replacement + plain[i + 1 :]) is None, i


@pytest.mark.parametrize("cut", [1, 6, 20, 40])
def test_it_rejects_truncated_keys(cut):
    assert crypto.parse(crypto.generate().plain[:-cut]) is None


def test_the_stored_hash_is_hmac_sha256_with_the_pepper_not_secret_key():
    new = crypto.generate()
    secret = crypto.parse(new.plain).secret
    peppered = hmac.new(settings.API_KEY_PEPPER.encode(), secret.encode(), hashlib.sha256)
    assert new.secret_hash == peppered.hexdigest()
    with_secret_key = hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256)
    assert new.secret_hash != with_secret_key.hexdigest()


def test_the_plain_key_appears_nowhere_in_the_database(jwt_client):
    body = jwt_client.post("/api/api-keys/", {"name": "leak check"}, format="json").json()
    plain, secret = body["key"], body["key"][34:66]
    key_client_for(plain).get(PROBE)  # a usage row and lastUsedAt too
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    with connection.cursor() as cursor:
        cursor.execute("SELECT apikeys_apikey::text FROM apikeys_apikey")
        rows = " ".join(row[0] for row in cursor.fetchall())
    assert body["id"] in dump.getvalue() and body["id"] in rows
    for text in (dump.getvalue(), rows):
        assert plain not in text and secret not in text and plain[8:60] not in text


def test_verification_compares_in_constant_time(monkeypatch, api_key):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert key_client_for(api_key.plain).get(PROBE).status_code == 403  # authenticated
    assert (crypto.hash_secret(api_key.plain[34:66]), api_key.api_key.secret_hash) in calls
