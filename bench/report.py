# ruff: noqa: E501 — Markdown table lines read better unbroken
"""Write BENCHMARKS.md from the JSON results of one `make bench` run (to standard output)."""

from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path

from bench.common import load, out_dir


def _machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        if match:
            cpu = match.group(1).strip()
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"MemTotal:\s*(\d+) kB", meminfo.read_text())
        if match:
            memory = f", {int(match.group(1)) / 1024 / 1024:.0f} GB RAM"
    version = out_dir() / "postgres.version"
    postgres = version.read_text().strip() if version.exists() else "PostgreSQL"
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {postgres} (throwaway cluster of scripts/with-services.sh, fsync off)"
    )


def _time_file(name: str) -> dict:
    path = out_dir() / name
    if not path.exists():
        return {}
    text = path.read_text()
    found = {}
    for key, pattern in (("rss_kb", r"Maximum resident set size \(kbytes\): (\d+)"),):
        match = re.search(pattern, text)
        if match:
            found[key] = int(match.group(1))
    return found


def _rows(log_name: str) -> list[tuple[str, str]]:
    path = out_dir() / log_name
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        match = re.match(r"\s+([a-zA-Z][\w. /()0-9đ]+?)\s{2,}([\d,]+)$", line)
        if match:
            rows.append((match.group(1).strip(), match.group(2)))
    return rows


def _stages(log_name: str) -> list[tuple[str, str]]:
    path = out_dir() / log_name
    if not path.exists():
        return []
    return re.findall(r"^\s+([a-z][a-z0-9 ]+?)\s+([\d.]+) s$", path.read_text(), flags=re.MULTILINE)


def goal(met: bool) -> str:
    return "met" if met else "**missed**"


def main() -> None:
    lines: list[str] = []
    add = lines.append
    add("# Benchmarks")
    add("")
    add(f"Measured {datetime.date.today():%d/%m/%Y} on {_machine()}.")
    add("")
    add("Reproduce with `make bench` (installs requirements-bench.txt, starts a throwaway PostgreSQL and Redis,")
    add("generates the full synthetic Hanoi with `python manage.py generate_hanoi --scale full --seed 2017`,")
    add("runs `bench/run.sh` and rewrites this file). Every figure is a ratio against a floor measured in the")
    add("same run on the same machine; nothing here is a timed assertion of the test suite. The data are")
    add("synthetic: the figures the generator reproduces are those quoted in the project's issue from the")
    add("association's October 2017 report; every other number of the data is an assumption of the generator")
    add("(`demo/generator/spec.py`).")
    add("")

    demo, small, full = load("demo"), load("generate_small"), load("generate_full")
    add("## Loading the data")
    add("")
    add("| what | time | goal |")
    add("|---|---|---|")
    if demo:
        add(
            f"| `make run`'s demo on SQLite: migrate + `demo_setup` | {demo['seconds']:.1f} s | < 120 s: {goal(demo['seconds'] < 120)} |"
        )
    if small:
        add(
            f"| `generate_hanoi --scale small` on PostgreSQL (with Plan 99 indicators) | {small['seconds']:.1f} s | < 60 s: {goal(small['seconds'] < 60)} |"
        )
    if full:
        rss = _time_file("generate_full.time").get("rss_kb")
        memory = f", peak RSS {rss / 1024:.0f} MB (`/usr/bin/time -v`)" if rss else ""
        add(
            f"| `generate_hanoi --scale full` on PostgreSQL (with Plan 99 indicators){memory} | {full['seconds']:.1f} s | < 600 s: {goal(full['seconds'] < 600)} |"
        )
    add("")
    add(
        "Both generations build every year (money 2015–2020, learning titles 2021–2026) on the 2017 map, then apply "
        "Hanoi's reorganisation rounds at their dates, decided by a stated rule (`reorganisation.rounds.rule_decisions`, "
        "never official): `bench/run.sh` generates with `--rounds 2` (01/01/2020 and 01/01/2025) and the reorganisation "
        "benchmark below applies the third (01/07/2025), so every later benchmark runs on today's map of 126 communes "
        "with its history. Nothing dated after a round's effective day stays on a unit it dissolved or a fund it "
        "closed: the money of 2020 that would fall on a fund of a commune the first round dissolves falls on its "
        "district's fund instead, and the learning titles' yearly records dated after a round are re-homed to the "
        "successors (registrations with their subject, decisions and eligible counts to the successor that received "
        "most of the unit's records: a decision moves there whole, never merged, an eligible count is summed there); "
        "`demo/generator/rounds.py` says how and checks it."
    )
    add("")
    stages = _stages("generate_full.log")
    if stages:
        add("Stages of the full generation: " + "; ".join(f"{name} {seconds} s" for name, seconds in stages) + ".")
        add("")
    rows = _rows("generate_full.log")
    if rows:
        add("Rows of the full generation:")
        add("")
        add("| table / figure | rows |")
        add("|---|---|")
        for label, count in rows:
            add(f"| {label} | {count} |")
        add("")

    indicators = load("indicators")
    if indicators:
        add("## Both indicators for every branch at one date")
        add("")
        add(
            f"Plan 99's two targets for all {indicators['branches']:,} branches of the city on "
            f"{indicators['as_of']} (city: boards {indicators['city_coverage'][0]:,}/{indicators['city_coverage'][1]:,}, "
            f"members {indicators['city_membership'][0]:,}/{indicators['city_membership'][1]:,}). Median of 5 runs."
        )
        add("")
        portal_label = (
            "both targets as a recompute run computes them (the day's tree read once, "
            "`plans.indicators.indicators_compute_with_tree`)"
            if indicators.get("tree_shared")
            else "`plans.indicators.indicators_compute`, both targets (each reading its own tree)"
        )
        add("| implementation | time | ratio to floor |")
        add("|---|---|---|")
        add(
            f"| floor: one hand-written SQL query per indicator, grouped by branch (no roll-up) | {indicators['floor_seconds']:.3f} s | 1 |"
        )
        add(
            f"| portal: {portal_label}, with roll-up | {indicators['portal_seconds']:.3f} s | **{indicators['ratio']:.2f}** |"
        )
        add(
            f"| naive per-branch ORM loop (estimated from {indicators['naive_sampled_branches']} sampled branches) | "
            f"≈ {indicators['naive_estimate_seconds']:.0f} s | {indicators['naive_ratio']:.0f} |"
        )
        add("")
        add(f"Goal: within 2× of the floor — {goal(indicators['ratio'] <= 2)}.")
        add("")

    learning = load("learning")
    if learning:
        scale = "full" if learning["scale"] == "full" else f"{learning['scale']} (not the full data)"
        add("## The learning titles' figures for every branch")
        add("")
        add(
            f"Eligible, registered, evaluated and recognised for every branch, title and year on the {scale} "
            f"generated city: {learning['registrations']:,} registrations over {', '.join(map(str, learning['years']))}, "
            f"{learning['figures']:,} figures for {learning['branches']:,} branches. Median of 5 runs."
        )
        add("")
        add("| implementation | time | ratio to floor |")
        add("|---|---|---|")
        add(
            f"| floor: one hand-written SQL query, GROUP BY per branch, title and year, rolled up in SQL by a join on path prefixes | {learning['floor_seconds']:.3f} s | 1 |"
        )
        add(
            f"| portal: `learning.figures.title_figures_compute`, with the roll-up in Python | {learning['portal_seconds']:.3f} s | **{learning['ratio']:.2f}** |"
        )
        add("")
        add(f"Goal: within 2× of the floor — {goal(learning['ratio'] <= 2)}.")
        if learning.get("stage_seconds") is not None:
            add("")
            add(
                f"The generator's learning stage (households, clans, communities, citizens, registrations, evaluations, "
                f"decisions) took {learning['stage_seconds']:.1f} s of the {learning['scale']} generation; the whole "
                'generation\'s goal (under 600 s) is in "Loading the data".'
            )
        add("")

    for label in ("full", "small"):
        plans = load(f"plans_{label}")
        if not plans:
            continue
        add(f"## Every indicator of Plan 99 and Plan 291 for every branch ({label} city)")
        add("")
        add(
            f"{plans['targets_computed']} targets ({plans['targets']} in the two plans; not available, so computed by "
            f"neither: {', '.join(plans['targets_not_available']) or 'none'}), {plans['branch_values']:,} branch values: "
            f"Plan 99 on {plans['plan_99_as_of']}, Plan 291 on {plans['plan_291_as_of']}. Median of 3 runs. "
            f"City totals of floor and portal {'agree' if plans['checked'] else '**differ**: ' + str(plans['mismatches'])}."
        )
        add("")
        add("| implementation | time | ratio to floor |")
        add("|---|---|---|")
        add(
            f"| floor: hand-written SQL, 8 queries grouped by branch (no roll-up), see bench/plans.py | {plans['floor_seconds']:.3f} s | 1 |"
        )
        add(
            f"| portal: `indicators_compute` (Plan 99) and `catalogue_compute` (Plan 291), with roll-up | {plans['portal_seconds']:.3f} s | **{plans['ratio']:.2f}** |"
        )
        add("")
        add(f"Goal: within 2× of the floor — {goal(plans['ratio'] <= 2)}.")
        add("")

    for label in ("full", "small"):
        reorg = load(f"reorganisation_{label}")
        if not reorg:
            continue
        rss = _time_file(f"reorganisation_{label}.time").get("rss_kb")
        add(f"## A reorganisation's dry run and apply ({label} city)")
        add("")
        add(
            f"{reorg['round']} (effective {reorg['effective_on']}), decided by the generator's rule, on the city generated "
            f"with the first two rounds: {reorg['counts'].get('dissolved', 0):,} units dissolved, {reorg['records_moved']:,} records "
            f"moved ({', '.join(f'{k} {v:,}' for k, v in reorg['moves_by_type'].items())}), "
            f"{reorg['counts'].get('fund_transfers', 0):,} fund transfers. Apply: {len(reorg['apply_samples'])} runs "
            "(all but the last rolled back), median."
        )
        add("")
        add("| step | time | ratio to floor |")
        add("|---|---|---|")
        add(
            f"| floor: per kind of record, one SQL UPDATE of the same rows' branch ids ({reorg['floor_statements']} statements) | {reorg['floor_seconds']:.2f} s | 1 |"
        )
        add(f"| dry run: `reorganisation_plan` | {reorg['dry_run_seconds']:.2f} s | {reorg['dry_run_ratio']:.2f} |")
        add(f"| apply: `reorganisation_apply` | {reorg['apply_seconds']:.2f} s | **{reorg['apply_ratio']:.2f}** |")
        add("")
        peak = max(reorg["dry_run_peak_rss_mb"], reorg["apply_peak_rss_mb"])
        add(
            f"Peak memory of the process (getrusage): {reorg['dry_run_peak_rss_mb']:.0f} MB after the dry runs, "
            f"{reorg['apply_peak_rss_mb']:.0f} MB after the applies"
            + (f"; `/usr/bin/time -v` of the whole bench: {rss / 1024:.0f} MB" if rss else "")
            + " (PostgreSQL's own memory is not in it)."
        )
        add("")
        add(
            f"Goals: apply within 3× of the floor — {goal(reorg['apply_ratio'] <= 3)}; peak memory under 500 MB — {goal(peak < 500)}."
        )
        add("")

    load_result, counts_full, counts_small = load("load"), load("querycount_full"), load("querycount_small")
    if load_result:
        add("## Pages under load")
        add("")
        add(
            f"{load_result['users']} signed-in clients without think time for {load_result['seconds']} s per page (locust, headless), "
            f"gunicorn with {load_result['workers']} sync workers, DEBUG off, PostgreSQL; locust runs on the same machine."
        )
        add("")
        add("| page | requests | errors | p50 | p95 | p95 / trivial p95 | queries (full data) | queries (small data) |")
        add("|---|---|---|---|---|---|---|---|")
        trivial = load_result["scenarios"]["trivial"]["p95_ms"]
        all_met = True
        for name, row in load_result["scenarios"].items():
            ratio = row["p95_ms"] / trivial if trivial else 0
            full_count = counts_full.get(name, "") if counts_full else ""
            small_count = counts_small.get(name, "") if counts_small else ""
            if name != "trivial":
                all_met = all_met and ratio <= 3 and row["failures"] == 0 and full_count == small_count
            add(
                f"| {name} `{row['path']}` | {row['requests']:,} | {row['failures']} | {row['p50_ms']:.0f} ms | "
                f"{row['p95_ms']:.0f} ms | {ratio:.1f} | {full_count} | {small_count} |"
            )
        add("")
        add(
            f"Goal: p95 within 3× of the trivial page, no errors, query count independent of data size — {goal(all_met)}."
        )
        add("")

    imports = [
        (
            "members",
            "Importing a 100 000-row members workbook",
            "`Member.objects.bulk_create` of the same rows already parsed (batches of 1 000)",
            "members",
        ),
        (
            "donations",
            "Importing a 100 000-row donations workbook",
            "`bulk_create` of the same donations already parsed (receipt numbers given) and their ledger rows",
            "donations",
        ),
        (
            "awards",
            "Importing a 100 000-row scholarship awards workbook",
            "`bulk_create` of the same awards already parsed, their payments and their ledger rows",
            "awards",
        ),
    ]
    for kind, title, floor_text, noun in imports:
        prefix = "imports" if kind == "members" else f"imports_{kind}"
        floor, engine = load(f"{prefix}_floor"), load(f"{prefix}_engine")
        if not (floor and engine):
            continue
        rows = engine["rows"]
        apply_rate = rows / engine["apply_seconds"]
        both_rate = rows / (engine["apply_seconds"] + engine["check_seconds"])
        apply_text = (
            "apply (the checked plan, verified and written, one transaction)"
            if engine.get("plan_kept")
            else "apply (check again + write, one transaction)"
        )
        add(f"## {title}")
        add("")
        add("| step | time | rows/s | ratio to floor rate |")
        add("|---|---|---|---|")
        add(f"| floor: {floor_text} | {floor['seconds']:.1f} s | {floor['rows_per_second']:,.0f} | 1 |")
        add(
            f"| import engine, check (dry run) | {engine['check_seconds']:.1f} s | {rows / engine['check_seconds']:,.0f} | {rows / engine['check_seconds'] / floor['rows_per_second']:.2f} |"
        )
        add(
            f"| import engine, {apply_text} | {engine['apply_seconds']:.1f} s | {apply_rate:,.0f} | {apply_rate / floor['rows_per_second']:.2f} |"
        )
        add(
            f"| import engine, check + apply | {engine['check_seconds'] + engine['apply_seconds']:.1f} s | {both_rate:,.0f} | **{both_rate / floor['rows_per_second']:.2f}** |"
        )
        add("")
        add(
            f"{engine['created']:,} {noun} created, {engine['updated']:,} updated. Peak memory of the importing process "
            f"(`resource.getrusage` ru_maxrss): {engine['peak_rss_mb']:.0f} MB, of which {engine['baseline_rss_mb']:.0f} MB "
            "before the import started."
            + (
                f" Afterwards every fund's balance equals its ledger's sum ({engine['funds_checked']} funds) and the "
                f"receipt numbers run without a gap ({engine['receipt_gaps']} gaps)."
                if "funds_checked" in engine
                else ""
            )
        )
        add("")
        add(
            f"Goals: at least half the floor's rate for check + apply — {goal(both_rate >= floor['rows_per_second'] / 2)}; "
            f"peak memory under 400 MB — {goal(engine['peak_rss_mb'] < 400)}."
        )
        add("")

    embedded = load("embedded")
    if embedded:
        rows = f"{embedded['rows']:,}".replace(",", " ")
        add(f"## The embedded default (`make run`, SQLite) during a {rows}-row member import")
        add("")
        add(
            f"Another clerk loads `{embedded['page']}` one request after another (0.2 s apart) while the first "
            "clerk's import runs in the web process's background thread and her progress bar polls; runserver "
            "on a SQLite file in WAL mode, as `make run` serves it."
        )
        add("")
        add("| while | requests | p50 | p95 | max | p95 ratio to idle | progress poll p95 | errors |")
        add("|---|---|---|---|---|---|---|---|")
        add(
            f"| idle | {embedded['idle_requests']} | {embedded['idle_p50_ms']:.0f} ms | {embedded['idle_p95_ms']:.0f} ms "
            "| | 1 | | |"
        )
        for phase, label in (("check", "the check runs"), ("apply", "the apply runs")):
            add(
                f"| {label} ({embedded[phase + '_seconds']:.1f} s) | {embedded[phase + '_requests']} | "
                f"{embedded[phase + '_p50_ms']:.0f} ms | {embedded[phase + '_p95_ms']:.0f} ms | "
                f"{embedded[phase + '_max_ms']:.0f} ms | {embedded[phase + '_p95_ms'] / embedded['idle_p95_ms']:.1f} | "
                f"{embedded[phase + '_poll_p95_ms']:.0f} ms | {len(embedded[phase + '_failures'])} |"
            )
        add("")
        errors = len(embedded["check_failures"]) + len(embedded["apply_failures"])
        add(
            f"The import ended {embedded['final_status']} with {embedded['members_created']:,} members written; "
            f"the clerk's Apply request answered in {embedded['apply_request_ms'] / 1000:.1f} s. "
            f"Goal: the other clerk's page answers in under a second during the apply, without errors — "
            f"{goal(embedded['apply_p95_ms'] < 1000 and errors == 0)} (p95 {embedded['apply_p95_ms']:.0f} ms, "
            f"{errors} errors)."
        )
        add("")

    reports = load("reports")
    if reports:
        add("## Period reports on the full data")
        add("")
        add(
            "The selectors of `funds/reports.py` and `scholarships/reports.py` against a hand-written SQL sum over the same rows (median of 5 runs)."
        )
        add("")
        add("| report | branch | report | SQL sum | ratio |")
        add("|---|---|---|---|---|")
        for case in reports["cases"]:
            add(
                f"| {case['report']} | {case['branch']} | {case['report_seconds'] * 1000:.0f} ms | "
                f"{case['floor_seconds'] * 1000:.0f} ms | {case['ratio']:.2f} |"
            )
        add("")
    exports = load("exports_full") or load("exports_small")
    if exports:
        add(f"## A full-size export ({exports['scale']} data)")
        add("")
        add(
            "The members list of the whole city written to .xlsx by the background export (`associations.services.export_job_run`), "
            "against a floor: the same rows written by openpyxl write-only from one server-side SQL cursor (one run each)."
        )
        add("")
        add("| rows | portal | floor | share of the floor's rate |")
        add("|---|---|---|---|")
        add(
            f"| {exports['rows']} | {exports['rows_per_second']:,.0f} rows/s ({exports['seconds']:.1f} s) | "
            f"{exports['floor_rows_per_second']:,.0f} rows/s ({exports['floor_seconds']:.1f} s) | {exports['ratio_of_floor_rate']:.2f} |"
        )
        add("")
        add(f"Goal: at least half the floor's rate — {goal(exports['goal_met'])}.")
        add("")
    freshness = [result for result in (load("freshness_full"), load("freshness_small")) if result]
    if freshness:
        add("## Freshness after a write")
        add("")
        add(
            "A clerk of one commune saves a member, a donation or an award through the services, 10 times each, "
            "with a real Celery worker running; the time from the write's commit until both the commune's and the "
            "city's stored value show it (Plan 99's membership of today, the stored money and scholarship totals "
            "of the year), the database polled every 20 ms. It includes the 1 s debounce that folds the writes of "
            "the same second into one run. The reference is a full-city recompute, what every write scheduled "
            "before (60 s after it)."
        )
        add("")
        add("| data | write | median | max | the scoped run itself (median) | full-city recompute | median / full |")
        add("|---|---|---|---|---|---|---|")
        for result in freshness:
            full_seconds = result["full_recompute_seconds"]
            for kind, figures in result["kinds"].items():
                run = figures["scoped_run_median_seconds"]
                add(
                    f"| {result['scale']} | {kind} | {figures['median_seconds']:.2f} s | {figures['max_seconds']:.2f} s | "
                    f"{run or 0:.2f} s | {full_seconds:.1f} s | {figures['median_seconds'] / full_seconds:.2f} |"
                )
        for result in freshness:
            add("")
            add(
                f"Goal ({result['scale']} data): every median within {result['goal_seconds']:.0f} s — "
                f"{goal(result['goal_met'])}."
            )
        add("")
    notes = Path(__file__).with_name("NOTES.md")
    if notes.exists():
        add(notes.read_text().strip())
        add("")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
