"""The report: a table of every scenario per cache topology, the starvation and scale tables, the
machine, and the goals as a table (per topology: the ratio per round, their median, met or not).

Every figure is per round; a ratio compares two scenarios measured back to back in the same round
and the same topology, since absolute req/s on a shared machine swing between runs. A ratio goal
is judged on the median of its rounds (one noisy round neither makes nor breaks it).
"""

import os
import platform
import statistics
from dataclasses import dataclass
from pathlib import Path

import django

from bench.scenarios import (
    GOALS,
    RETENTION_PURGE_10M_SECONDS_AT_MOST,
    SCALE_ACTIVITY_10M_P50_MS_AT_MOST,
    SCALE_LIST_1M_OVER_1K_AT_MOST,
    SCALE_SEARCH_RARE_1M_P50_MS_AT_MOST,
    STARVATION_P99_AT_MOST,
    STARVATION_REFUSAL,
    TOPOLOGIES,
    Goal,
)
from bench.servers import admin_connection


def machine() -> dict:
    """What the figures were measured on, printed above the tables."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    with admin_connection() as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        sync = conn.execute("SHOW synchronous_commit").fetchone()[0]
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "postgresql": pg,
        "synchronous_commit": sync,
        "python": platform.python_version(),
        "django": django.get_version(),
        "kernel": platform.release(),
    }


def machine_line(report: dict) -> str:
    """The date, machine, database and versions the figures were measured with, and the run's
    settings."""
    m = report["machine"]
    return (
        f"ParsaLink bench {report['started']} — {m['nproc']} x {m['cpu']}, PostgreSQL "
        f"{m['postgresql']} (synchronous_commit={m['synchronous_commit']}), Python {m['python']}, "
        f"Django {m['django']}; {report['settings']}"
    )


# Each topology's heading above its scenario table.
TOPOLOGY_TITLES = {
    "redis": "Redis as the shared cache (REDIS_URL set)",
    "database": "Database only: Django's DatabaseCache + core_ratecounter (REDIS_URL unset)",
}


def _fmt_ratio(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def _by_scenario(report: dict, topology: str | None = None) -> dict[str, list[dict]]:
    """Each scenario's results, in round order; of one topology when `topology` is given."""
    rows: dict[str, list[dict]] = {}
    for r in report["results"]:
        if topology is None or r.get("topology", "") == topology:
            rows.setdefault(r["scenario"], []).append(r)
    return rows


def _rps_ratio(rows: dict[str, list[dict]], key: str, base: str) -> list[float]:
    """`key`'s req/s ÷ `base`'s, per round both ran in."""
    base_rps = {r["round"]: r["rps"] for r in rows.get(base, [])}
    return [r["rps"] / base_rps[r["round"]] for r in rows.get(key, []) if r["round"] in base_rps]


def render(report: dict) -> str:
    out = []
    for topology in report.get("topologies", []):
        if any(r.get("topology") == topology for r in report["results"]):
            out.append(f"{TOPOLOGY_TITLES[topology]}:\n")
            out.append(render_scenarios(report, topology) + "\n")
    if report.get("cache_note"):
        out.append(f"Note: {report['cache_note']}.\n")
    if report.get("starvation"):
        out.append(render_starvation(report["starvation"]) + "\n")
    if report.get("scale"):
        out.append(render_scale(report["scale"]) + "\n")
    if report.get("retention"):
        out.append(render_retention(report["retention"]) + "\n")
    if report.get("argon2"):
        a = report["argon2"]
        out.append(
            f"Argon2id per hash: ParsaLink ({a['parsalink']['params']}) "
            f"{a['parsalink']['cpu_ms']} ms CPU; Django default ({a['django_default']['params']}) "
            f"{a['django_default']['cpu_ms']} ms CPU.\n"
        )
    if report.get("machine"):
        out.append(machine_line(report) + "\n")
    out.append(render_goals(report))
    if report.get("duration_s") is not None:
        minutes, seconds = divmod(round(report["duration_s"]), 60)
        out.append(f"\nThe bench took {minutes} min {seconds:02d} s.")
    return "\n".join(out)


def render_scenarios(report: dict, topology: str | None = None) -> str:
    """One row per scenario (of one topology when given): its figures, and its req/s against the
    no-auth list (ours, or the variant's own) and against its stock peer, per round."""
    rows = _by_scenario(report, topology)
    labels, peers = report["labels"], report["peers"]
    lines = [
        "| scenario | req/s (per round) | p50 ms | p99 ms | CPU ms/req | DB CPU ms/req "
        "| x no-auth (per round) | x no-auth by CPU | x its peer (per round) | non-2xx |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, runs in rows.items():
        rps = [r["rps"] for r in runs]
        noauth = "v_noauth" if key.startswith("v_") else "noauth"
        base_cpu = {r["round"]: r["cpu_ms"] + r["db_cpu_ms"] for r in rows.get(noauth, [])}
        cpu_ratio = [
            base_cpu[r["round"]] / (r["cpu_ms"] + r["db_cpu_ms"])
            for r in runs
            if r["round"] in base_cpu
        ]
        peer_key = peers.get(key)
        peer_ratio = _fmt_ratio(_rps_ratio(rows, key, peer_key)) if peer_key in rows else ""
        non2xx = sum(r["non2xx"] + r["socket_errors"] for r in runs)
        statuses: dict[str, int] = {}
        for r in runs:
            for code, n in r["statuses"].items():
                if not code.startswith("2"):
                    statuses[code] = statuses.get(code, 0) + n
        detail = (
            f" ({', '.join(f'{c}: {n}' for c, n in sorted(statuses.items()))})" if statuses else ""
        )
        lines.append(
            f"| {labels.get(key, key)} | {' / '.join(f'{v:.0f}' for v in rps)} "
            f"| {statistics.mean(r['p50_ms'] for r in runs):.2f} "
            f"| {statistics.mean(r['p99_ms'] for r in runs):.2f} "
            f"| {statistics.mean(r['cpu_ms'] for r in runs):.2f} "
            f"| {statistics.mean(r['db_cpu_ms'] for r in runs):.2f} "
            f"| {_fmt_ratio(_rps_ratio(rows, key, noauth))} | {_fmt_ratio(cpu_ratio)} "
            f"| {peer_ratio} | {non2xx}{detail} |"
        )
    return "\n".join(lines)


def render_starvation(starvation: list[dict]) -> str:
    lines = [
        "| login starvation (JWT list, 8 connections) | list p99 alone ms | list p99 with 8 "
        "clients hammering login ms | ratio | list req/s alone → with | login answers |",
        "|---|---|---|---|---|---|",
    ]
    for x in starvation:
        who = "variant" if x["server"] == "variant" else "ours"
        where = TOPOLOGIES.get(x.get("topology", ""))
        answers = ", ".join(f"{c}: {n}" for c, n in sorted(x["login_statuses"].items()))
        refused = x.get("login_refusals", {})
        if refused:
            answers += "; refused " + ", ".join(f"{k}: {n}" for k, n in sorted(refused.items()))
        lines.append(
            f"| {who}{f', {where}' if where else ''} "
            f"| {x['alone_p99_ms']:.2f} | {x['loaded_p99_ms']:.2f} | {x['ratio']:.2f}x "
            f"| {x['alone_rps']:.0f} → {x['loaded_rps']:.0f} "
            f"| {answers} ({x.get('login_ok_rps', 0):.0f} logins/s) |"
        )
    return "\n".join(lines)


def render_scale(scale: dict) -> str:
    lines = ["| scale (1 connection) | p50 ms (per round) | p99 ms (per round) |", "|---|---|---|"]
    for key in ("list_1k", "list_1m", "list_1m_page2", "search_rare_1m", "activity_10m"):
        if key in scale:
            e = scale[key]
            lines.append(
                f"| {e['label']} | {_fmt_ratio(e['p50_ms'])} | {_fmt_ratio(e['p99_ms'])} |"
            )
    return "\n".join(lines)


def render_retention(retention: dict) -> str:
    lines = [
        "| retention (purgeactivity) | rows removed | seconds | what it did |",
        "|---|---|---|---|",
    ]
    lines.append(
        f"| purge {retention['rows'] / 1e6:.0f}M expired usage rows | {retention['rows']} "
        f"| {retention['seconds']:.2f} | {'; '.join(retention['output'])} |"
    )
    return "\n".join(lines)


# --- goals --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    """One ratio goal in one topology: the ratio per round, judged on their median."""

    values: list[float]
    at_least: float

    @property
    def median(self) -> float | None:
        """As printed, to two decimals: a third would be noise, and the verdict must agree with
        the figure beside it (a median of 0.846 shows as 0.85 and meets ≥ 0.85)."""
        return round(statistics.median(self.values), 2) if self.values else None

    @property
    def met(self) -> bool | None:
        """None when it was not measured in this run."""
        return None if self.median is None else self.median >= self.at_least

    def cell(self) -> str:
        if self.median is None:
            return "not measured"
        mark = "met" if self.met else "**not met**"
        return f"{_fmt_ratio(self.values)} (median {self.median:.2f}) {mark}"


def goal_ratio(report: dict, goal: Goal, topology: str) -> Ratio:
    """`goal` in `topology`: its scenario's req/s ÷ the other's, per round both ran in."""
    rows = _by_scenario(report, topology)
    return Ratio(_rps_ratio(rows, goal.scenario, goal.against), goal.at_least)


@dataclass(frozen=True)
class Check:
    """One row of the other checks' table; `met` is None when it was not measured in this run."""

    name: str
    value: str
    goal: str
    met: bool | None


def bounded(name: str, values: list[float], bound: float, *, at_most: bool = False) -> Check:
    """A figure per round against a bound: met when every round meets it."""
    goal = f"{'≤' if at_most else '≥'} {bound:.2f}"
    if not values:
        return Check(name, "not measured", goal, None)
    met = all(v <= bound for v in values) if at_most else all(v >= bound for v in values)
    return Check(name, _fmt_ratio(values), goal, met)


def checks(report: dict) -> list[Check]:
    """The goals that are not a ratio of req/s (login starvation, scale)."""
    out = []
    starvation = report.get("starvation", [])
    out.append(
        bounded(
            "login starvation: JWT list p99 with logins hammering ÷ alone",
            [x["ratio"] for x in starvation if x["server"] == "ours"],
            STARVATION_P99_AT_MOST,
            at_most=True,
        )
    )
    refusals = [x.get("login_refusals", {}) for x in starvation]
    if refusals:
        total = sum(n for r in refusals for n in r.values())
        bad = sum(n for r in refusals for k, n in r.items() if k != STARVATION_REFUSAL)
        name = f"starvation: refused logins that are {STARVATION_REFUSAL} + Retry-After"
        out.append(Check(name, f"{total - bad} of {total}", "all", bad == 0))
    sc = report.get("scale") or {}
    list_ratio = []
    if "list_1k" in sc and "list_1m" in sc:
        pairs = zip(sc["list_1m"]["p50_ms"], sc["list_1k"]["p50_ms"], strict=True)
        list_ratio = [m / k for m, k in pairs]
    out.append(
        bounded(
            "scale: list p50 at 1M contacts ÷ at 1k",
            list_ratio,
            SCALE_LIST_1M_OVER_1K_AT_MOST,
            at_most=True,
        )
    )
    out.append(
        bounded(
            "scale: key activity p50 at 10M usage rows, ms",
            sc.get("activity_10m", {}).get("p50_ms", []),
            SCALE_ACTIVITY_10M_P50_MS_AT_MOST,
            at_most=True,
        )
    )
    out.append(
        bounded(
            "scale: contact search p50, rare term, 1M contacts, ms",
            sc.get("search_rare_1m", {}).get("p50_ms", []),
            SCALE_SEARCH_RARE_1M_P50_MS_AT_MOST,
            at_most=True,
        )
    )
    retention = report.get("retention") or {}
    out.append(
        bounded(
            "retention: purge 10M expired usage rows, s",
            [retention["seconds"]] if "seconds" in retention else [],
            RETENTION_PURGE_10M_SECONDS_AT_MOST,
            at_most=True,
        )
    )
    return out


def render_goals(report: dict) -> str:
    """The ratio goals, one column per topology, then the other checks."""
    measured = report.get("topologies", [])
    lines = [
        f"| path | {' | '.join(TOPOLOGIES.values())} | goal |",
        f"|---|{'---|' * len(TOPOLOGIES)}---|",
    ]
    unmeasured = "not measured (no Redis)" if report.get("cache_note") else "not measured"
    for goal in GOALS:
        cells = [
            goal_ratio(report, goal, topology).cell() if topology in measured else unmeasured
            for topology in TOPOLOGIES
        ]
        lines.append(f"| {goal.path} | {' | '.join(cells)} | ≥ {goal.at_least:.2f} |")
    lines.append("")
    lines.append(
        "Ratios per round (ours ÷ the other, back to back), their median; met on the median."
    )
    lines += [
        "",
        "| other check | value (per round) | goal | met (every round) |",
        "|---|---|---|---|",
    ]
    for check in checks(report):
        mark = "—" if check.met is None else ("yes" if check.met else "**no**")
        lines.append(f"| {check.name} | {check.value} | {check.goal} | {mark} |")
    return "\n".join(lines)
