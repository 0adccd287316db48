"""What the bench measures, as data: each scenario's request, its Lua script and its goals.

A path or body field `{name}` is filled from the seed of the scenario's server (bench/seed.py for
ours, the peers' `peerseed` for the stock peer); `auth` names the Authorization header it sends.
A goal (GOALS) compares a scenario's req/s with another scenario's in the same round and the same
cache topology; it is met when the median of the rounds' ratios reaches it.
"""

import json
from dataclasses import dataclass, field, replace

PAGE = "pageSize=10"

# The Authorization header each kind of credential sends, filled from its server's seed.
AUTH_HEADERS = {
    "none": "",
    "jwt": "Bearer {access}",
    "writer_jwt": "Bearer {writerAccess}",
    "api_key": "Bearer {apiKey}",
    "stock_api_key": "Api-Key {apiKey}",  # djangorestframework-api-key's own scheme
}


@dataclass(frozen=True)
class Goal:
    """`scenario`'s req/s ÷ `against`'s req/s in the same round: the median over the rounds at
    least `at_least`. `path` names the row of the goals table."""

    path: str
    scenario: str
    against: str
    at_least: float


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    server: str  # "ours" | "peer"; "variant" and "scale" at run time
    method: str
    path: str
    script: str  # in bench/lua/
    auth: str = "none"
    body: dict = field(default_factory=dict)
    refresh_pool: bool = False  # needs a pool of fresh single-use refresh tokens
    count_status: bool = False  # count every answer by status (low-rate scenarios only)
    peer: str = ""  # the stock peer's version of this scenario

    def bind(self, seed: dict) -> "BoundScenario":
        """The concrete request, with the seed's ids and credentials filled in."""
        body = {name: value.format(**seed) for name, value in self.body.items()}
        return BoundScenario(
            scenario=self,
            path=self.path.format(**seed),
            authorization=AUTH_HEADERS[self.auth].format(**seed),
            body=json.dumps(body) if body else "",
        )


@dataclass(frozen=True)
class BoundScenario:
    scenario: Scenario
    path: str
    authorization: str
    body: str

    def __getattr__(self, name: str):
        return getattr(self.scenario, name)

    def on(self, server: str, *, key: str = "", label: str = "") -> "BoundScenario":
        """The same request against another server of ours (the --variant run)."""
        other = replace(
            self.scenario, server=server, key=key or self.key, label=label or self.label
        )
        return replace(self, scenario=other)


OURS = [
    Scenario(
        "noauth",
        "no-auth list",
        "ours",
        "GET",
        f"/api/_bench/contacts/?workspace={{workspace}}&{PAGE}",
        "get.lua",
        peer="peer_noauth",
    ),
    Scenario(
        "jwt",
        "JWT list",
        "ours",
        "GET",
        f"/api/contacts/?{PAGE}",
        "get.lua",
        auth="jwt",
        peer="peer_jwt",
    ),
    Scenario(
        "apikey",
        "API-key list (usage logged)",
        "ours",
        "GET",
        f"/api/contacts/?{PAGE}",
        "get.lua",
        auth="api_key",
        peer="peer_apikey",
    ),
    Scenario(
        "refresh",
        "refresh (atomic rotation)",
        "ours",
        "POST",
        "/api/auth/token/refresh/",
        "refresh.lua",
        refresh_pool=True,
        count_status=True,
        peer="peer_refresh",
    ),
    Scenario(
        "login",
        "login (Argon2id, gated)",
        "ours",
        "POST",
        "/api/auth/login/",
        "post_json.lua",
        body={"email": "{email}", "password": "{password}"},
        count_status=True,
    ),
    Scenario(
        "create",
        "contact create (JWT)",
        "ours",
        "POST",
        "/api/contacts/",
        "post_json.lua",
        auth="writer_jwt",
        body={"firstName": "Bench", "lastName": "Create", "email": "bench@example.com"},
        count_status=True,
    ),
]

# The stock Django/DRF project in bench/peers/, one scenario per peer named by ours.
PEERS = [
    Scenario(
        "peer_noauth",
        "stock DRF list, no auth",
        "peer",
        "GET",
        f"/peer/contacts/?workspace={{workspace}}&{PAGE}",
        "get.lua",
    ),
    Scenario(
        "peer_jwt",
        "stock simplejwt list",
        "peer",
        "GET",
        f"/peer/jwt/contacts/?workspace={{workspace}}&{PAGE}",
        "get.lua",
        auth="jwt",
    ),
    Scenario(
        "peer_apikey",
        "stock drf-api-key list",
        "peer",
        "GET",
        f"/peer/key/contacts/?workspace={{workspace}}&{PAGE}",
        "get.lua",
        auth="stock_api_key",
    ),
    Scenario(
        "peer_refresh",
        "stock simplejwt refresh",
        "peer",
        "POST",
        "/peer/token/refresh/",
        "refresh.lua",
        refresh_pool=True,
        count_status=True,
    ),
]

PEER_PROBE = f"/peer/contacts/?workspace={{workspace}}&{PAGE}"

# The goals table, one row each, in this order; each is judged per cache topology.
GOALS = [
    Goal("no-auth list vs a stock DRF list", "noauth", "peer_noauth", 1.0),
    Goal("JWT list vs stock simplejwt JWTAuthentication", "jwt", "peer_jwt", 1.0),
    Goal(
        "API-key list (usage logged) vs stock djangorestframework-api-key HasAPIKey",
        "apikey",
        "peer_apikey",
        1.0,
    ),
    Goal(
        "refresh (atomic rotation) vs stock simplejwt rotate + blacklist",
        "refresh",
        "peer_refresh",
        1.0,
    ),
    Goal("JWT list ÷ our no-auth list", "jwt", "noauth", 0.90),
    Goal("API-key list ÷ our no-auth list", "apikey", "noauth", 0.85),
]

# The cache topologies a run can measure: the throttles' counters and Django's cache in Redis
# (REDIS_URL set), or in PostgreSQL (DatabaseCache + core_ratecounter: REDIS_URL unset, what a
# deployment following the contract's defaults gets).
TOPOLOGIES = {"redis": "Redis", "database": "DB-only"}


@dataclass(frozen=True)
class ScaleCase:
    """One latency measurement on the scale database (1 connection, no queueing)."""

    key: str
    label: str
    path: str  # "{next:<path>}" means: the `next` link of <path>'s first page
    access: str  # which seeded user's token: "access1k" | "access1m"


SCALE = [
    ScaleCase("list_1k", "JWT list, 1k contacts", f"/api/contacts/?{PAGE}", "access1k"),
    ScaleCase("list_1m", "JWT list, 1M contacts", f"/api/contacts/?{PAGE}", "access1m"),
    ScaleCase(
        "list_1m_page2",
        "JWT list, 1M contacts, page 2",
        f"{{next:/api/contacts/?{PAGE}}}",
        "access1m",
    ),
    # One contact of the million matches (Last123457): without the trigram index PostgreSQL
    # walks the workspace from the newest contact down to it, ~880k rows.
    ScaleCase(
        "search_rare_1m",
        "contact search, rare term, 1M contacts",
        f"/api/contacts/?{PAGE}&search=Last123457",
        "access1m",
    ),
    ScaleCase(
        "activity_10m",
        "key activity, 10M usage rows",
        f"/api/api-keys/{{apiKeyId}}/activity/?{PAGE}",
        "access1k",
    ),
]

# Goals that are not a ratio of two scenarios' req/s (report.py checks them).
STARVATION_P99_AT_MOST = 2.0  # the JWT list's p99 while logins hammer ÷ its p99 alone
STARVATION_REFUSAL = "429 login_busy"  # every refused login (with Retry-After)
SCALE_LIST_1M_OVER_1K_AT_MOST = 1.2  # list p50 at 1M contacts ÷ at 1k
SCALE_ACTIVITY_10M_P50_MS_AT_MOST = 20.0
SCALE_SEARCH_RARE_1M_P50_MS_AT_MOST = 50.0
RETENTION_PURGE_10M_SECONDS_AT_MOST = 5.0  # purgeactivity removing 10M expired usage rows


def plan(
    ours_seed: dict, peer_seed: dict | None, *, only: str = "", variant: bool = False
) -> list[BoundScenario]:
    """The run order: each of ours followed by its stock peer (A B A B across rounds), filtered
    by `only` (ours' keys; a peer follows ours), each of ours then again on the variant server."""
    peers = {sc.key: sc for sc in PEERS}
    order: list[BoundScenario] = []
    for scenario in OURS:
        order.append(scenario.bind(ours_seed))
        if peer_seed is not None and scenario.peer:
            order.append(peers[scenario.peer].bind(peer_seed))
    if only:
        wanted = set(only.split(","))
        order = [sc for sc in order if sc.key in wanted or sc.key.removeprefix("peer_") in wanted]
    if variant:
        # Right after its baseline, so a proposed setting is measured side by side.
        with_variant = []
        for sc in order:
            with_variant.append(sc)
            if sc.server == "ours":
                with_variant.append(
                    sc.on("variant", key=f"v_{sc.key}", label=f"{sc.label} [variant]")
                )
        order = with_variant
    return order


def find(key: str, ours_seed: dict) -> BoundScenario:
    return next(sc for sc in OURS if sc.key == key).bind(ours_seed)
