"""Login brute force is throttled across two gunicorn workers: the cache is shared, not per process.

Run once on Redis (REDIS_URL) and once on the database cache (no REDIS_URL).
"""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.live_server import GunicornServer
from tests.ops.helpers import CapturedOutput

pytestmark = pytest.mark.django_db(transaction=True)

# A Redis database of its own, and a key prefix per run, so concurrent test runs never share
# counters (CACHE_KEY_PREFIX, settings.py).
REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture(params=["redis", "database"])
def cache_env(request) -> dict[str, str]:
    prefix = f"ops-test-{uuid.uuid4().hex}"
    if request.param == "redis":
        return {"REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix}
    return {"REDIS_URL": "", "CACHE_KEY_PREFIX": prefix}


def _attempts(send, count: int) -> list[requests.Response]:
    """`count` attempts one after the other, each on a new connection that either worker may
    accept (the test then checks that both did); simultaneous attempts have their own test."""
    return [send(i) for i in range(count)]


LOGIN = "/api/auth/login/"


def _refused_by(output: CapturedOutput) -> set[int]:
    """The worker processes that answered a login with 429."""
    return {
        r["pid"]
        for r in output.records()
        if r.get("logger") == "parsalink.request" and r["path"] == LOGIN and r["status"] == 429
    }


def _until_both_workers_refuse(send, output: CapturedOutput) -> list[requests.Response]:
    """Further attempts, two at a time so both workers get some, until each worker has refused
    one: a worker that served few of the counted attempts still sees the shared counter."""
    probes: list[requests.Response] = []
    with ThreadPoolExecutor(2) as pool:
        for round_ in range(30):
            if len(_refused_by(output)) == 2:
                break
            probes += pool.map(send, [100 + 2 * round_, 101 + 2 * round_])
            time.sleep(0.05)  # the request log line may trail the response
    return probes


def test_login_per_ip_is_throttled_across_workers(cache_env, credentials, certificate):
    certfile, keyfile = certificate
    env = {
        **cache_env,
        "THROTTLE_LOGIN_PER_IP": "5/min",
        "THROTTLE_LOGIN_PER_EMAIL": "1000/min",
        "LOG_LEVEL": "INFO",
    }
    server = GunicornServer(workers=2, env=env, certfile=certfile, keyfile=keyfile)
    server.env.pop("FORWARDED_ALLOW_IPS", None)
    with server:
        output = CapturedOutput(server)

        def wrong_password(i: int) -> requests.Response:
            return requests.post(
                f"{server.url}/api/auth/login/",
                json={**credentials, "password": f"guess number {i}"},
                # Not from a trusted proxy: a made-up X-Forwarded-For must not give each
                # attempt a fresh per-IP bucket.
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
                verify=False,
            )

        guesses = _attempts(wrong_password, 12)
        right = requests.post(f"{server.url}/api/auth/login/", json=credentials, verify=False)
        probes = _until_both_workers_refuse(wrong_password, output)
        refused_by = _refused_by(output)
        output.stop()

    statuses = [r.status_code for r in guesses]
    assert statuses.count(401) == 5, statuses
    assert statuses.count(429) == 7, statuses
    for response in guesses:
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) > 0
            assert response.json()["code"] == "throttled"
    # The right password is throttled too: a window, not a check that a guesser could use to
    # confirm a hit.
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0

    assert len(refused_by) == 2, "both workers refuse: the counter is shared"
    assert all(probe.status_code == 429 for probe in probes)
    records = output.records()
    throttled = [r for r in records if r.get("event") == "throttled"]
    assert len(throttled) == 8 + len(probes)
    assert {r["scope"] for r in throttled} == {"login_ip"}


def test_login_per_email_is_throttled_across_workers_and_ips(cache_env, credentials):
    env = {
        **cache_env,
        "THROTTLE_LOGIN_PER_IP": "1000/min",
        "THROTTLE_LOGIN_PER_EMAIL": "3/min",
        # A trusted proxy (this test) says where each attempt came from: every attempt from a
        # different address, all against one account (credential stuffing).
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "LOG_LEVEL": "INFO",
    }
    with GunicornServer(workers=2, env=env) as server:
        output = CapturedOutput(server)

        def from_ip(i: int, password: str) -> requests.Response:
            return requests.post(
                f"{server.url}/api/auth/login/",
                json={**credentials, "password": password},
                headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": f"203.0.113.{i}"},
            )

        guesses = _attempts(lambda i: from_ip(i, f"guess number {i}"), 8)
        right = from_ip(200, credentials["password"])
        # Another account is not affected: per email, not a global lock.
        other = requests.post(
            f"{server.url}/api/auth/login/",
            json={"email": "someone-else@example.com", "password": "whatever it is"},
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.201"},
        )
        probes = _until_both_workers_refuse(lambda i: from_ip(i, f"guess {i}"), output)
        refused_by = _refused_by(output)
        output.stop()

    statuses = [r.status_code for r in guesses]
    assert statuses.count(401) == 3, statuses
    assert statuses.count(429) == 5, statuses
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
    assert other.status_code == 401
    assert len(refused_by) == 2, "both workers refuse: the counter is shared"
    assert all(probe.status_code == 429 for probe in probes)
    records = output.records()
    throttled = [r for r in records if r.get("event") == "throttled"]
    assert {r["scope"] for r in throttled} == {"login_email"}
    # The log names the scope, never the e-mail address under attack.
    assert credentials["email"] not in output.text


@pytest.mark.parametrize("threads", [1, 8], ids=["sync", "gthread"])
def test_simultaneous_attempts_pass_exactly_the_budget_across_workers(
    cache_env, credentials, threads
):
    """16 attempts at once on one account, on two workers (sync: racing between them; threaded:
    also inside each): exactly 5 pass. The body has no password, so each attempt the budget
    lets through is a cheap 400 (no hashing). A loaded machine can leave one worker to accept
    a whole burst: bursts on fresh accounts repeat until both workers shared one."""
    env = {
        **cache_env,
        "THROTTLE_LOGIN_PER_EMAIL": "5/min",
        "THROTTLE_LOGIN_PER_IP": "1000/min",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "LOG_LEVEL": "INFO",
    }
    with GunicornServer(workers=2, env=env, extra_args=["--threads", str(threads)]) as server:
        output = CapturedOutput(server)

        def burst(email: str) -> list[int]:
            barrier = threading.Barrier(16)

            def attempt(i: int) -> requests.Response:
                with requests.Session() as session:
                    barrier.wait()
                    return session.post(
                        f"{server.url}{LOGIN}",
                        json={"email": email},
                        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": f"203.0.113.{i}"},
                    )

            with ThreadPoolExecutor(16) as pool:
                return sorted(r.status_code for r in pool.map(attempt, range(16)))

        shared_by_both = False
        for round_ in range(8):
            seen = len(output.records())
            statuses = burst(credentials["email"] if round_ == 0 else f"round{round_}@example.com")
            assert statuses == [400] * 5 + [429] * 11, (round_, statuses)
            time.sleep(0.2)  # the request log lines may trail the responses
            pids = {
                r["pid"] for r in output.records()[seen:] if r.get("logger") == "parsalink.request"
            }
            if threads > 1 or len(pids) == 2:
                shared_by_both = True
                break
        output.stop()
    assert shared_by_both, "no burst was shared by both workers"


def test_a_peer_that_is_not_the_trusted_proxy_cannot_rotate_x_forwarded_for(
    credentials, certificate
):
    """With FORWARDED_ALLOW_IPS naming a proxy, a client connecting directly (TLS at gunicorn)
    gets no fresh per-IP budget from a made-up X-Forwarded-For."""
    certfile, keyfile = certificate
    env = {
        "FORWARDED_ALLOW_IPS": "10.255.255.1",
        "THROTTLE_LOGIN_PER_IP": "3/min",
        "THROTTLE_LOGIN_PER_EMAIL": "1000/min",
    }
    with GunicornServer(env=env, certfile=certfile, keyfile=keyfile) as server:
        statuses = [
            requests.post(
                f"{server.url}{LOGIN}",
                json={"email": credentials["email"]},
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
                verify=False,
            ).status_code
            for i in range(5)
        ]
    assert statuses == [400, 400, 400, 429, 429]
