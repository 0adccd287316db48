"""The bench's plan and its goals table, on made-up results (no servers)."""

import pytest

from bench.report import checks, goal_ratio, render, render_goals, render_scenarios
from bench.scenarios import GOALS, find, plan

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


def result(scenario: str, round_no: int, rps: float, topology: str = "redis") -> dict:
    return {
        "scenario": scenario,
        "topology": topology,
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
        "topologies": sorted({r["topology"] for r in results}, reverse=True),
        "labels": {k: k for k in keys},
        "peers": {k: v for k, v in peers.items() if k in keys},
        **extra,
    }


def check_named(report: dict, name: str):
    return next(c for c in checks(report) if c.name == name)


def goal_row(report: dict, path: str) -> str:
    return next(line for line in render_goals(report).splitlines() if line.startswith(f"| {path} "))


JWT_VS_NOAUTH = next(g for g in GOALS if g.path == "JWT list ÷ our no-auth list")


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


def test_a_goal_is_judged_on_the_median_of_its_rounds():
    report = report_of(
        *(result("noauth", n, 100) for n in (1, 2, 3)),
        result("jwt", 1, 95),
        result("jwt", 2, 70),  # one noisy round neither makes nor breaks the goal
        result("jwt", 3, 92),
    )
    jwt = goal_ratio(report, JWT_VS_NOAUTH, "redis")
    assert (jwt.values, jwt.median, jwt.met) == ([0.95, 0.70, 0.92], 0.92, True)
    assert goal_row(report, "JWT list ÷ our no-auth list") == (
        "| JWT list ÷ our no-auth list | 0.95 / 0.70 / 0.92 (median 0.92) met "
        "| not measured | ≥ 0.90 |"
    )


def test_a_goal_whose_median_misses_is_marked_not_met():
    report = report_of(
        *(result("noauth", n, 100) for n in (1, 2, 3)),
        *(result("jwt", n, rps) for n, rps in ((1, 95), (2, 85), (3, 80))),
    )
    assert "(median 0.85) **not met**" in goal_row(report, "JWT list ÷ our no-auth list")


def test_a_median_is_judged_as_printed_to_two_decimals():
    report = report_of(
        *(result("noauth", n, 1000) for n in (1, 2)),
        *(result("apikey", n, rps) for n, rps in ((1, 842), (2, 850))),
    )
    assert "0.84 / 0.85 (median 0.85) met" in goal_row(report, "API-key list ÷ our no-auth list")


def test_each_topology_is_judged_on_its_own_rounds():
    report = report_of(
        result("noauth", 1, 100, "redis"),
        result("peer_noauth", 1, 50, "redis"),
        result("noauth", 1, 100, "database"),
        result("peer_noauth", 1, 200, "database"),
    )
    assert report["topologies"] == ["redis", "database"]
    assert goal_row(report, "no-auth list vs a stock DRF list") == (
        "| no-auth list vs a stock DRF list | 2.00 (median 2.00) met "
        "| 0.50 (median 0.50) **not met** | ≥ 1.00 |"
    )
    text = render(report)
    assert text.index("Redis as the shared cache") < text.index("Database only")


def test_a_ratio_compares_scenarios_of_the_same_round():
    report = report_of(
        result("noauth", 1, 100),
        result("peer_noauth", 1, 200),
        result("noauth", 2, 300),
        result("peer_noauth", 2, 300),
    )
    assert "| 0.50 / 1.00 (median 0.75) **not met** |" in goal_row(
        report, "no-auth list vs a stock DRF list"
    )
    noauth_row = render_scenarios(report, "redis").splitlines()[2]
    assert noauth_row.endswith("| 1.00 / 1.00 | 0.50 / 1.00 | 0 |")  # x no-auth by CPU, x peer


def test_a_goal_whose_scenarios_did_not_run_is_not_measured_rather_than_failed():
    report = report_of(result("noauth", 1, 100))
    assert goal_row(report, "refresh (atomic rotation) vs stock simplejwt rotate + blacklist") == (
        "| refresh (atomic rotation) vs stock simplejwt rotate + blacklist | not measured "
        "| not measured | ≥ 1.00 |"
    )


def test_without_redis_the_redis_column_says_why_it_was_not_measured():
    report = report_of(result("noauth", 1, 100, "database"), cache_note="no Redis answers")
    assert "| not measured (no Redis) | not measured | ≥ 1.00 |" in goal_row(
        report, "JWT list vs stock simplejwt JWTAuthentication"
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
