"""The bench's plan and its goals table, on made-up results (no servers)."""

import pytest

from bench.report import checks, render_goals, render_scenarios
from bench.scenarios import find, plan

OURS_SEED = {
    "workspace": "ws_1",
    "access": "jwt-a",
    "writerAccess": "jwt-w",
    "apiKey": "pk_live_x",
    "email": "bench@example.com",
    "password": "pw",
}
PEER_SEED = {"workspace": "7", "access": "peer-jwt", "apiKey": "peer.key"}

pytestmark = pytest.mark.django_db  # the suite's autouse cache reset reaches the database


def result(scenario: str, round_no: int, rps: float) -> dict:
    return {
        "scenario": scenario,
        "round": round_no,
        "rps": rps,
        "p50_ms": 1.0,
        "p99_ms": 2.0,
        "cpu_ms": 1000 / rps,
        "db_cpu_ms": 0.0,
        "requests": int(rps),
        "non2xx": 0,
        "socket_errors": 0,
        "statuses": {},
    }


def report_of(*results: dict, **extra) -> dict:
    keys = {r["scenario"] for r in results}
    peers = {"jwt": "peer_jwt", "noauth": "peer_noauth"}
    return {
        "results": list(results),
        "labels": {k: k for k in keys},
        "peers": {k: v for k, v in peers.items() if k in keys},
        **extra,
    }


def check_named(report: dict, name: str):
    return next(c for c in checks(report) if c.name == name)


def test_each_of_ours_runs_right_before_its_stock_peer():
    keys = [sc.key for sc in plan(OURS_SEED, PEER_SEED)]
    assert keys == [
        "noauth",
        "peer_noauth",
        "jwt",
        "peer_jwt",
        "apikey",
        "peer_apikey",
        "refresh",
        "peer_refresh",
        "login",
        "create",
    ]


def test_only_keeps_the_named_scenarios_and_their_peers():
    keys = [sc.key for sc in plan(OURS_SEED, PEER_SEED, only="jwt,login")]
    assert keys == ["jwt", "peer_jwt", "login"]


def test_a_variant_runs_right_after_each_of_ours_and_never_for_a_peer():
    keys = [sc.key for sc in plan(OURS_SEED, PEER_SEED, only="jwt", variant=True)]
    assert keys == ["jwt", "v_jwt", "peer_jwt"]


def test_scenarios_fill_in_their_own_servers_seed():
    bound = {sc.key: sc for sc in plan(OURS_SEED, PEER_SEED)}
    assert bound["apikey"].authorization == "Bearer pk_live_x"
    assert bound["peer_apikey"].authorization == "Api-Key peer.key"
    assert bound["peer_noauth"].path == "/peer/contacts/?workspace=7&pageSize=10"
    assert bound["noauth"].authorization == ""
    assert '"email": "bench@example.com"' in find("login", OURS_SEED).body


def test_a_goal_is_met_only_when_every_round_meets_it():
    report = report_of(
        result("noauth", 1, 100),
        result("jwt", 1, 95),
        result("noauth", 2, 100),
        result("jwt", 2, 85),
    )
    jwt = check_named(report, "JWT list ÷ no-auth list")
    assert (jwt.value, jwt.met) == ("0.95 / 0.85", False)
    assert "| JWT list ÷ no-auth list | 0.95 / 0.85 | ≥ 0.90 | **no** |" in render_goals(report)


def test_a_ratio_compares_scenarios_of_the_same_round():
    report = report_of(
        result("noauth", 1, 100),
        result("peer_noauth", 1, 200),
        result("noauth", 2, 300),
        result("peer_noauth", 2, 300),
    )
    assert check_named(report, "no-auth list ÷ stock DRF list, no auth").value == "0.50 / 1.00"
    noauth_row = render_scenarios(report).splitlines()[2]
    assert noauth_row.endswith("| 1.00 / 1.00 | 0.50 / 1.00 | 0 |")  # x no-auth by CPU, x peer


def test_a_goal_whose_scenarios_did_not_run_is_not_measured_rather_than_failed():
    report = report_of(result("noauth", 1, 100))
    refresh = check_named(report, "refresh (atomic rotation) ÷ stock simplejwt refresh")
    assert refresh.met is None
    assert (
        "| refresh (atomic rotation) ÷ stock simplejwt refresh | not measured | ≥ 1.00 | — |"
        in render_goals(report)
    )


def test_login_starvation_is_met_when_the_p99_at_most_doubles_and_every_refusal_is_busy():
    starvation = {
        "server": "ours",
        "round": 1,
        "ratio": 1.8,
        "login_refusals": {"429 login_busy": 5, "429 throttled no-retry-after": 1},
    }
    report = report_of(result("noauth", 1, 100), starvation=[starvation])
    p99 = check_named(report, "login starvation: JWT list p99 with logins hammering ÷ alone")
    assert (p99.met, p99.goal) == (True, "≤ 2.00")
    refusals = check_named(
        report, "starvation: refused logins that are 429 login_busy + Retry-After"
    )
    assert (refusals.value, refusals.goal, refusals.met) == ("5 of 6", "all", False)
