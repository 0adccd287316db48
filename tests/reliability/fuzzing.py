"""Schema-driven fuzzing of a live server with schemathesis (v4), reusable from pytest and CLI.

Every operation of the served `/api/schema/` is exercised with generated data, valid
("positive") and invalid ("negative"), once per authentication profile (a person's JWT, an
API key) or anonymously where the schema says no authentication is needed. Operations with an
`{id}` path parameter are also fuzzed with real ids of existing objects, so the success paths
(200/204) are reached, not only 404s. Every response is checked for:

- a 5xx status (never acceptable);
- conformance to the schema: documented status code, content type, headers, body schema;
- invalid input accepted (negative data answered 2xx) or valid input refused with a 400;
- leaked internals in the body (a traceback, a debug page, HTML, driver names).

Findings are collected, not raised, so one run reports all of them with a reproducing curl.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.reliability.harness import HTTPS, leaks

# Blocking: a server error, a response the schema does not describe, invalid input accepted.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MODE_CHECKS = {
    GenerationMode.POSITIVE: [],
    GenerationMode.NEGATIVE: [negative_data_rejection],
}
# gunicorn's own refusals of a request line or headers over its limits (gunicorn.conf.py): the
# request is rejected before any parameter is read, which negative_data_rejection does not count
# as a rejection (its list stops at 4xx codes of the application).
TRANSPORT_REFUSALS = {414, 431}
# Advisory: input the schema allows was refused with a 4xx. Some of it is inherent (a wrong
# current password, an opaque cursor that does not decode), some is a schema that is looser
# than the server; reported, never fatal.
ADVISORY_CHECKS = [positive_data_acceptance]

# Headers -> dict of headers to send for one call of operation `label`.
AuthProfile = Callable[[str], dict[str, str]]


@dataclass
class Finding:
    operation: str
    profile: str
    mode: str
    check: str
    status: int
    message: str
    curl: str
    count: int = 1
    advisory: bool = False


@dataclass
class FuzzReport:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    operations: set = field(default_factory=set)
    findings: dict = field(default_factory=dict)
    seconds: float = 0.0
    notes: list = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings.values() if not f.advisory]

    @property
    def advisory(self) -> list[Finding]:
        return [f for f in self.findings.values() if f.advisory]

    @property
    def leaks(self) -> int:
        return sum(f.count for f in self.findings.values() if f.check == "leak")

    def add(self, finding: Finding) -> None:
        key = (finding.operation, finding.profile, finding.check, finding.status)
        if key in self.findings:
            self.findings[key].count += 1
        else:
            self.findings[key] = finding

    def summary(self) -> str:
        codes = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        return (
            f"fuzz: {self.requests} requests over {len(self.operations)} operations in "
            f"{self.seconds:.0f} s; 5xx: {self.server_errors}; leaks: {self.leaks}; "
            f"blocking findings: {len(self.blocking)}; advisory: {len(self.advisory)}; "
            f"statuses {{{codes}}}"
        )

    def details(self) -> str:
        lines = []
        for f in sorted(self.findings.values(), key=lambda f: (f.advisory, f.operation, f.check)):
            lines.append(
                f"- {'advisory' if f.advisory else 'BLOCKING'} [{f.check}] {f.operation} "
                f"as {f.profile} ({f.mode}) -> {f.status} x{f.count}: {f.message}\n    {f.curl}"
            )
        return "\n".join(lines + [f"note: {note}" for note in self.notes])


def _first_lines(text: str, limit: int = 6) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[:limit])[:600]


def load_schema(base_url: str):
    response = requests.get(
        f"{base_url}/api/schema/", params={"format": "json"}, headers=HTTPS, timeout=30
    )
    response.raise_for_status()
    raw = response.json()
    raw["servers"] = [{"url": base_url}]
    return raw, schemathesis.openapi.from_dict(raw)


def _needs_auth(raw: dict, path: str, method: str) -> bool:
    """Operations whose `security` admits the empty requirement are anonymous (login...)."""
    operation = raw["paths"][path][method.lower()]
    security = operation.get("security", raw.get("security"))
    if security is None:
        return True
    return {} not in security


class Fuzzer:
    def __init__(
        self,
        base_url: str,
        *,
        profiles: dict[str, AuthProfile],
        real_ids: dict[str, Callable[[], str]] | None = None,
        max_examples: int = 25,
        request_timeout: float = 15.0,
        skip: Callable[[str, str], bool] | None = None,
        derandomize: bool = False,
    ) -> None:
        self.base_url = base_url
        self.profiles = profiles
        self.real_ids = real_ids or {}
        self.max_examples = max_examples
        self.request_timeout = request_timeout
        self.skip = skip or (lambda label, profile: False)
        # CI runs the same examples every time (no flaky surprises); fuzz-long explores.
        self.derandomize = derandomize
        self.report = FuzzReport()
        self.session = requests.Session()

    def run(self) -> FuzzReport:
        started = time.monotonic()
        raw, schema = load_schema(self.base_url)
        operations = []
        for result in schema.get_all_operations():
            operation = result.ok()
            operations.append(operation)
        # Deletions last, so the real objects they remove served the other operations first.
        operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))
        for operation in operations:
            label = f"{operation.method.upper()} {operation.path}"
            self.report.operations.add(label)
            if _needs_auth(raw, operation.path, operation.method):
                profiles = self.profiles
            else:
                profiles = {"anonymous": lambda label: {}}
            for name, profile in profiles.items():
                if self.skip(label, name):
                    continue
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    self._fuzz(operation, label, name, profile, mode, path_parameters=None)
                    real = self._real_id_for(operation.path)
                    if real is not None:
                        self._fuzz(operation, label, name, profile, mode, path_parameters=real)
        self.report.seconds = time.monotonic() - started
        self.session.close()
        return self.report

    def _real_id_for(self, path: str) -> dict | None:
        names = re.findall(r"{(\w+)}", path)
        if names != ["id"]:
            return None
        for prefix, provider in self.real_ids.items():
            if path.startswith(prefix):
                return {"id": provider()}
        return None

    def _fuzz(self, operation, label, profile_name, profile, mode, *, path_parameters) -> None:
        kwargs = {"generation_mode": mode}
        if profile_name != "anonymous":
            # The credential is ours, not generated: fixed here (so no "invalid" Authorization
            # is generated or negated) and replaced by the profile's real one at call time.
            kwargs["headers"] = {"Authorization": "Bearer placeholder"}
        if path_parameters:
            kwargs["path_parameters"] = path_parameters
        try:
            strategy = operation.as_strategy(**kwargs)
        except Exception as exc:  # a schema schemathesis cannot generate from is a finding
            self.report.notes.append(f"{label} ({mode.value}): no strategy: {exc}")
            return
        examples = self.max_examples if path_parameters is None else max(5, self.max_examples // 3)

        @hsettings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=self.derandomize,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            verbosity=hypothesis.Verbosity.quiet,
        )
        @given(case=strategy)
        def run(case) -> None:
            self._one(case, label, profile_name, profile, mode)

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            self.report.notes.append(f"{label} ({mode.value}): no example could be generated")

    def _one(self, case, label, profile_name, profile, mode) -> None:
        headers = {**HTTPS, **profile(label)}
        try:
            response = case.call(
                base_url=self.base_url,
                session=self.session,
                headers=headers,
                timeout=self.request_timeout,
            )
        except requests.RequestException as exc:
            self.report.requests += 1
            self.report.statuses[599] += 1
            self.report.add(
                Finding(label, profile_name, mode.value, "no_response", 0, str(exc), "")
            )
            return
        self.report.requests += 1
        self.report.statuses[response.status_code] += 1
        curl = case.as_curl_command(headers=headers)
        found = leaks(response.content)
        if found:
            self.report.add(
                Finding(
                    label,
                    profile_name,
                    mode.value,
                    "leak",
                    response.status_code,
                    f"body contains {found}: {response.text[:300]}",
                    curl,
                )
            )
        refused_by_transport = response.status_code in TRANSPORT_REFUSALS
        self._validate(
            case,
            response,
            headers,
            CHECKS + ([] if refused_by_transport else MODE_CHECKS[mode]),
            label,
            profile_name,
            mode,
            curl,
            advisory=False,
        )
        if mode is GenerationMode.POSITIVE:
            self._validate(
                case,
                response,
                headers,
                ADVISORY_CHECKS,
                label,
                profile_name,
                mode,
                curl,
                advisory=True,
            )

    def _validate(
        self, case, response, headers, checks, label, profile_name, mode, curl, *, advisory
    ) -> None:
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                lenient = _empty_query_value_accepted(case, response, failure)
                self.report.add(
                    Finding(
                        label,
                        profile_name,
                        mode.value,
                        failure.title,
                        response.status_code,
                        _first_lines(failure.message) + f" | body: {response.text[:200]}",
                        curl,
                        advisory=advisory or lenient,
                    )
                )


def _empty_query_value_accepted(case, response, failure) -> bool:
    """`?ordering=` or `?since=` answered like an absent parameter: DRF reads an empty query
    value of an optional field as "not given". Lenient, harmless, and reported as advisory."""
    if failure.title != "Schema-violating request accepted" or response.status_code >= 300:
        return False
    query = case.query or {}
    return any(value in ("", [""]) for value in query.values())


# --- the world a fuzz run needs ---------------------------------------------------------------

PERSON_ONLY = ("POST /api/auth/logout-all/", "POST /api/auth/password/")


def prepare_profiles(
    base_url: str, *, owner_email: str, victim_email: str, password: str
) -> tuple[dict[str, AuthProfile], dict[str, Callable[[], str]]]:
    """Authentication profiles (JWT, API key) and pools of real ids, made through the API.

    `logout-all` and `password` would kill the token they are called with, so under the JWT
    profile they run as a second person ("victim") with a fresh login each time; the owner's
    token stays valid for the whole run.
    """
    from itertools import cycle

    from tests.reliability.harness import Client, create_api_key, login

    owner = login(base_url, owner_email, password)["access"]
    key = create_api_key(base_url, owner, "fuzz")["key"]
    sacrificial_key = create_api_key(base_url, owner, "fuzz-revoke-and-roll")["id"]
    with Client(base_url, token=owner) as client:
        contacts = [
            client.post("/api/contacts/", json={"firstName": f"Fuzz{i}", "company": "Acme"}).json()[
                "id"
            ]
            for i in range(12)
        ]
        events = [e["id"] for e in client.get("/api/activity/").json()["results"]]

    def jwt(label: str) -> dict[str, str]:
        if label in PERSON_ONLY:
            return {"Authorization": f"Bearer {login(base_url, victim_email, password)['access']}"}
        return {"Authorization": f"Bearer {owner}"}

    def api_key(label: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    contact_ids, event_ids = cycle(contacts), cycle(events)
    real_ids = {
        "/api/contacts/": lambda: next(contact_ids),
        "/api/api-keys/": lambda: sacrificial_key,
        "/api/activity/": lambda: next(event_ids),
    }
    return {"jwt": jwt, "api_key": api_key}, real_ids
