"""Peer benchmark: Accord, Cedar (cedarpy) and OPA's Rego (regopy) deciding one generated workload.

    Benchmarks/peers/run.sh [--quick] [--requests N] [--seed S]

1. Generates a personalisation workload from a seed (workload.py) and writes its one policy three times: an Accord
   policy folder (checked with `accord validate`), Cedar policies and entities (cedar_engine.py), and a Rego module
   and data document (rego_engine.py).
2. Agreement first: decides every request with all three engines (Accord through one `accord eval --requests` run;
   Cedar one call per resource; Rego one query per request, answering per resource) and compares every
   resource's permit/deny. Any difference, or any Cedar or Rego evaluation error, stops the run before timing.
3. Times each engine in the same run: per request, in batches of 1,000 (median, 10th and 90th percentile batch),
   load/compile time and peak memory. Cedar and Rego are timed in a fresh worker process each (this script with
   --worker), so their memory figures are their own; on a sample when timing every request would take too long.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

sys.dont_write_bytecode = True  # leave no __pycache__ beside the sources
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cedar_engine  # noqa: E402
import rego_engine  # noqa: E402
import workload as wl  # noqa: E402

BATCH = 1_000   # requests per timed batch, as `accord eval --timing` does
WARMUP = 2_000  # requests decided before timing starts, as `accord eval --timing` does


# --- Small helpers ------------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float:
    """The same pick as `accord eval --timing`: element ⌊n·p⌋ of the sorted batch figures."""
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def status_kb(key: str) -> int:
    """A figure from /proc/self/status in KiB: VmRSS (resident now) or VmHWM (peak resident).

    These belong to the process's own address space. `getrusage`'s ru_maxrss does not: Linux carries it across
    fork and exec, so a child started by a large parent reports at least the parent's size.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


# A small process, started before the workload is built, that starts `accord` and reports its resource usage.
# Started from this (by then large) process, accord's ru_maxrss would include this process's size (see status_kb);
# started from the launcher, its floor is the launcher's few MiB.
_LAUNCHER = r"""
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    with open(job["stdout"], "wb") as out, open(job["stderr"], "wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen(job["argv"], stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    print(json.dumps({"code": os.waitstatus_to_exitcode(status), "wall_s": wall, "maxrss_kb": usage.ru_maxrss}),
          flush=True)
"""


class Launcher:
    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-I", "-c", _LAUNCHER], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)

    def run(self, argv: list[str], stdout: Path, stderr: Path) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"argv": argv, "stdout": str(stdout), "stderr": str(stderr)}) + "\n")
        self.process.stdin.flush()
        report: dict[str, Any] = json.loads(self.process.stdout.readline())
        return report

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait()


def fmt_ns(ns: float) -> str:
    if ns >= 1_000_000:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1_000:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def fmt_mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


# --- Engines deciding every request (agreement) ------------------------------------------------------------------


@dataclass
class AccordRun:
    decisions: list[list[bool]]
    wall_s: float
    peak_rss_kb: int
    floor_kb: int  # what the launcher alone makes ru_maxrss read (a child doing nothing)
    timing: dict[str, Any] | None
    timing_wall_s: float | None
    one_request_wall_s: float | None  # without --timing: a run deciding one request, for the load time


def run_accord_eval(launcher: Launcher, accord: str, policies: Path, requests: Path, out: Path,
                    timing: bool) -> tuple[float, int, str]:
    """One `accord eval --requests` run; returns wall seconds, the process's own peak RSS (KiB) and its stderr."""
    command = [accord, "eval", "--policies", str(policies), "--requests", str(requests), "--as-of", wl.AS_OF]
    if timing:
        command.append("--timing")
    errors_file = out.with_suffix(".stderr")
    report = launcher.run(command, out, errors_file)
    errors = errors_file.read_text()
    if report["code"] != 0:
        sys.exit(f"accord eval failed (exit {report['code']}):\n{errors[:4000]}")
    return report["wall_s"], report["maxrss_kb"], errors


def accord_decide(launcher: Launcher, accord: str, policies: Path, requests_file: Path, work: Path,
                  n: int) -> AccordRun:
    out = work / "accord-decisions.jsonl"
    wall, peak, _ = run_accord_eval(launcher, accord, policies, requests_file, out, timing=False)
    floor = launcher.run(["true"], work / "true.out", work / "true.err")["maxrss_kb"]
    decisions: list[list[bool]] = []
    with open(out) as lines:
        for number, line in enumerate(lines, 1):
            answer = json.loads(line)
            if "resources" not in answer:
                sys.exit(f"accord could not read request line {number}: {line.strip()}")
            decisions.append([r["effect"] == "permit" for r in answer["resources"]])
    if len(decisions) != n:
        sys.exit(f"accord answered {len(decisions)} of {n} requests")

    # The timing pass, if this accord has --timing: the plan alone, after a run like the one above.
    figures = None
    timing_wall = None
    help_text = subprocess.run([accord, "eval", "--help"], capture_output=True, text=True).stdout
    if "--timing" in help_text:
        timing_wall, _, errors = run_accord_eval(launcher, accord, policies, requests_file,
                                                 work / "accord-timing.jsonl", True)
        for line in errors.splitlines():
            if line.startswith('{"accord_timing"'):
                figures = json.loads(line)["accord_timing"]
        (work / "accord-timing.jsonl").unlink(missing_ok=True)
    one = None
    if figures is None:
        first = work / "one-request.jsonl"
        with open(requests_file) as source:
            first.write_text(source.readline())
        one, _, _ = run_accord_eval(launcher, accord, policies, first, work / "one-decision.jsonl", False)
    return AccordRun(decisions, wall, peak, floor, figures, timing_wall, one)


def cedar_load(work: Path) -> tuple[Any, Any]:
    import cedarpy
    policies = cedarpy.PolicySet.from_str((work / "policy.cedar").read_text())
    entities = cedarpy.Entities.from_json_str((work / "entities.json").read_text())
    return policies, entities


def cedar_decide(cedar_requests: list[list[dict[str, Any]]],
                 work: Path) -> tuple[list[list[bool]], list[str], list[tuple[str, ...]]]:
    """Every request's answers, any evaluation errors, and per resource the policies (@id) that decided it."""
    import cedarpy
    policies, entities = cedar_load(work)
    decisions: list[list[bool]] = []
    errors: list[str] = []
    deciding: list[tuple[str, ...]] = []
    for per_request in cedar_requests:
        answers = []
        for request in per_request:
            result = cedarpy.is_authorized(request, policies, entities)
            diagnostics = result.diagnostics
            if diagnostics.errors:
                errors.append(f"{request['resource']['id']}: {diagnostics.errors}")
            answers.append(result.decision == cedarpy.Decision.Allow)
            names = diagnostics.id_annotations_by_reason
            deciding.append(tuple(names.get(r, r) for r in diagnostics.reasons))
        decisions.append(answers)
    return decisions, errors, deciding


def rego_load(work: Path) -> tuple[Any, Any]:
    import regopy
    interpreter = regopy.Interpreter()
    interpreter.add_module("privacy.rego", (work / "policy.rego").read_text())
    interpreter.add_data_json((work / "data.json").read_text())
    bundle = interpreter.build(None, [rego_engine.ENTRYPOINT])
    if not bundle.ok():
        sys.exit(f"the Rego module does not compile:\n{bundle.node()}")
    return interpreter, bundle


def rego_query(interpreter: Any, bundle: Any, line: str) -> list[bool] | str:
    """One request through the compiled bundle: a boolean per resource, or the error text."""
    interpreter.set_input_term(line)
    output = interpreter.query_bundle_entrypoint(bundle, rego_engine.ENTRYPOINT)
    if not output.ok() or not output.results or not output.results[0].expressions:
        return str(output)
    answer: list[bool] = output[0][0]
    return answer


def rego_decide(lines: list[str], work: Path) -> tuple[list[list[bool]], list[str]]:
    interpreter, bundle = rego_load(work)
    decisions: list[list[bool]] = []
    errors: list[str] = []
    for line in lines:
        answer = rego_query(interpreter, bundle, line)
        if isinstance(answer, str):
            errors.append(answer)
            answer = []
        decisions.append(answer)
    return decisions, errors


# --- Timing workers ----------------------------------------------------------------------------------------------


def batches(path: Path, parse: bool, limit: int) -> Iterator[list[Any]]:
    """The first `limit` lines of a JSON Lines file, BATCH at a time, as parsed objects or as text."""
    with open(path) as source:
        batch: list[Any] = []
        for count, line in enumerate(source):
            if count == limit:
                break
            batch.append(json.loads(line) if parse else line.rstrip("\n"))
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


def worker(kind: str, work: Path, limit: int) -> None:
    """Times one engine over the first `limit` requests; prints one JSON line of figures.

    Inputs are read a batch at a time, outside the timed part, so the worker's memory is the interpreter, the
    engine and one batch: its growth over the RSS before the engine was imported is the engine's.
    """
    cedar = kind.startswith("cedar")
    source = work / ("cedar-requests.jsonl" if cedar else "requests.jsonl")
    base = status_kb("VmRSS")
    if cedar:
        import cedarpy
        start = time.perf_counter_ns()
        policies, entities = cedar_load(work)
    else:
        import regopy  # noqa: F401  (loaded before the clock starts, as cedarpy is)
        start = time.perf_counter_ns()
        interpreter, bundle = rego_load(work)
    load_ns = time.perf_counter_ns() - start

    # Each decides a batch and returns what it needs afterwards: the allowed count, and for Cedar the results.
    decide: Any
    if kind == "cedar":
        def decide(batch: list[Any]) -> list[Any]:
            return [cedarpy.is_authorized(request, policies, entities) for per in batch for request in per]
    elif kind == "cedar-batch":
        def decide(batch: list[Any]) -> list[Any]:
            return cedarpy.is_authorized_batch([request for per in batch for request in per], policies, entities)
    else:
        def decide(batch: list[Any]) -> list[Any]:
            return [rego_query(interpreter, bundle, line) for line in batch]

    first = next(batches(source, cedar, 1))
    start = time.perf_counter_ns()
    decide(first)
    first_ns = time.perf_counter_ns() - start
    for batch in batches(source, cedar, min(WARMUP, limit)):
        decide(batch)

    per_request: list[float] = []
    authz: list[float] = []  # Cedar: the authorizer's own time per request, from cedarpy's metrics
    allowed = 0
    count = 0
    started = time.perf_counter()
    for batch in batches(source, cedar, limit):
        count += len(batch)
        gc.collect()  # not during the batch, as far as possible
        begin = time.perf_counter_ns()
        results = decide(batch)
        per_request.append((time.perf_counter_ns() - begin) / len(batch))
        if cedar:
            allowed += sum(r.decision == cedarpy.Decision.Allow for r in results)
            authz.append(sum(r.metrics.get("authz_duration_micros", 0) for r in results) * 1000 / len(batch))
        else:
            assert not any(isinstance(r, str) for r in results), results
            allowed += sum(sum(r) for r in results)
    timed_s = time.perf_counter() - started
    per_request.sort()
    authz.sort()
    figures = {
        "requests": count, "allowed": allowed, "load_ms": load_ns / 1e6,
        "first_ms": first_ns / 1e6, "median_ns": percentile(per_request, 0.5),
        "p10_ns": percentile(per_request, 0.1), "p90_ns": percentile(per_request, 0.9),
        "batches": len(per_request), "timed_s": timed_s, "rss_base_kb": base, "rss_peak_kb": status_kb("VmHWM")}
    if authz:
        figures |= {"authz_median_ns": percentile(authz, 0.5), "authz_p10_ns": percentile(authz, 0.1),
                    "authz_p90_ns": percentile(authz, 0.9)}
    print(json.dumps(figures))


def run_worker(kind: str, work: Path, limit: int) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--workdir", str(work),
               "--limit", str(limit)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"the {kind} timing worker failed:\n{done.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


# --- Checking that every rule matters ----------------------------------------------------------------------------


def rules_check(cedar_requests: list[list[dict[str, Any]]], allowed: list[bool], deciding: list[tuple[str, ...]],
                work: Path) -> tuple[list[str], dict[str, int]]:
    """How many resources each Cedar policy (each Accord rule, each other check) decides on its own.

    Removing a policy changes a resource's answer exactly when it is the only permit that applied to a permitted
    resource, or the only forbid that applied to a denied resource some permit covers. Cedar reports which
    policies applied (all permits for Allow, all forbids for Deny); one more pass with the permits alone tells
    which denied resources a permit covers. So this equals removing each policy in turn, without that many passes.
    """
    import cedarpy
    blocks = (work / "policy.cedar").read_text().strip().split("\n\n")
    ids = [block.split('"')[1] for block in blocks]  # each block starts with its @id
    permits_only = cedarpy.PolicySet.from_str("\n\n".join(b for b in blocks if "\npermit(" in b))
    entities = cedarpy.Entities.from_json_str((work / "entities.json").read_text())
    flat = [r for per_request in cedar_requests for r in per_request]
    covered: list[bool] = []
    for start in range(0, len(flat), 5_000):
        covered += [r.allowed for r in cedarpy.is_authorized_batch(flat[start:start + 5_000], permits_only, entities)]
    alone = {i: 0 for i in ids}
    for is_allowed, is_covered, names in zip(allowed, covered, deciding):
        if len(names) == 1 and (is_allowed or is_covered):
            alone[names[0]] += 1
    return ids, alone


# --- Main ----------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    engine: str
    version: str
    median_ns: float
    p10_ns: float
    p90_ns: float
    load: str
    memory: str
    sample: str
    includes: str


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 requests instead of 200,000")
    parser.add_argument("--requests", type=int, help="number of requests (default 200,000; 20,000 with --quick)")
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--accord", default=str(Path(__file__).resolve().parents[2] / ".build/release/accord"))
    parser.add_argument("--workdir", help="where to write the policies and requests (default: a new temp folder)")
    parser.add_argument("--worker", choices=["cedar", "cedar-batch", "rego"], help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, Path(args.workdir), args.limit)
        return

    started = time.perf_counter()
    launcher = Launcher()  # while this process is still small
    n = args.requests or (20_000 if args.quick else 200_000)
    # Timing budget per engine: beyond it, Cedar and Rego are timed on the first requests only (whole batches).
    budget_s = 30.0 if n <= 20_000 else 100.0
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="accord-peers-"))
    work.mkdir(parents=True, exist_ok=True)

    # 1. The workload and the three policies.
    load = wl.generate(args.seed, n)
    policies = work / "accord-policies"
    wl.write_accord(load, policies)
    requests_file = work / "requests.jsonl"
    with open(requests_file, "w") as out:
        lines = [json.dumps(r, separators=(",", ":")) for r in load.requests]
        out.write("\n".join(lines) + "\n")
    validated = subprocess.run([args.accord, "validate", str(policies)], capture_output=True, text=True)
    if validated.returncode != 0:
        sys.exit(f"accord validate {policies} failed:\n{validated.stdout}{validated.stderr}")
    (work / "policy.cedar").write_text(cedar_engine.policies())
    (work / "entities.json").write_text(cedar_engine.entities_json(load))
    (work / "policy.rego").write_text(rego_engine.module())
    (work / "data.json").write_text(json.dumps(rego_engine.data(load)))
    marshal_start = time.perf_counter()
    cedar_requests = [cedar_engine.requests(r, wl.AS_OF) for r in load.requests]
    marshal_s = time.perf_counter() - marshal_start
    with open(work / "cedar-requests.jsonl", "w") as out:
        out.write("\n".join(json.dumps(r, separators=(",", ":")) for r in cedar_requests) + "\n")
    resources = sum(len(r["resources"]) for r in load.requests)
    prepared_s = time.perf_counter() - started
    print(f"workload: seed {args.seed}, {n:,} requests ({resources:,} resources) from {load.subjects:,} subjects, "
          f"{len(load.features)} features, {len(wl.LEAF_CATEGORIES)} leaf categories, {len(wl.LEAF_PURPOSES)} leaf "
          f"purposes, {len(wl.JURISDICTIONS)} jurisdictions, {len(wl.RULES)} rules, {len(wl.RETENTION)} retention "
          f"limits; files in {work} ({prepared_s:.0f} s to generate)", flush=True)

    # 2. Agreement.
    phase = time.perf_counter()
    accord_run = accord_decide(launcher, args.accord, policies, requests_file, work, n)
    launcher.close()
    accord_s = time.perf_counter() - phase
    phase = time.perf_counter()
    cedar_answers, cedar_errors, cedar_deciding = cedar_decide(cedar_requests, work)
    cedar_s = time.perf_counter() - phase
    phase = time.perf_counter()
    rego_answers, rego_errors = rego_decide(lines, work)
    rego_s = time.perf_counter() - phase
    print(f"decided every request: Accord {accord_s:.1f} s (two eval runs), Cedar {cedar_s:.1f} s, "
          f"Rego {rego_s:.1f} s", flush=True)

    differing = [i for i in range(n) if not (accord_run.decisions[i] == cedar_answers[i] == rego_answers[i])]
    agreeing = n - len(differing)
    permitted = sum(sum(d) for d in accord_run.decisions)
    print(f"agreement: {agreeing:,}/{n:,} requests ({resources:,} resources) across Accord, Cedar and Rego")
    print(f"permitted: {permitted:,} of {resources:,} resources ({100 * permitted / resources:.1f} %)")
    if differing or cedar_errors or rego_errors:
        for message, errors in (("Cedar evaluation errors", cedar_errors), ("Rego evaluation errors", rego_errors)):
            if errors:
                print(f"{message}: {len(errors)}, e.g. {errors[0]}")
        for i in differing[:5]:
            print(f"\nrequest {lines[i]}\n  accord {accord_run.decisions[i]}\n  cedar  {cedar_answers[i]}"
                  f"\n  rego   {rego_answers[i]}")
        print("\nthe engines disagree: no timing")
        sys.exit(1)

    phase = time.perf_counter()
    ids, alone = rules_check(cedar_requests, [a for d in cedar_answers for a in d], cedar_deciding, work)
    idle = [i for i in ids if alone[i] == 0]
    fewest = min(ids, key=lambda i: alone[i])
    if idle:
        print(f"rules check: {len(idle)} of {len(ids)} Cedar policies decide none of these {resources:,} resources "
              f"on their own (removing them would change no answer here; rarer cases need more requests): "
              f"{', '.join(idle)}")
    else:
        print(f"rules check: each of the {len(ids)} Cedar policies ({len(wl.RULES)} Accord rules, the rest Accord's "
              f"other checks) alone decides some resources, so removing any changes answers (fewest: {fewest}, "
              f"{alone[fewest]:,})")
    rules_s = time.perf_counter() - phase

    # 3. Timing.
    rows: list[Row] = []
    version = subprocess.run([args.accord, "--version"], capture_output=True, text=True).stdout.strip()
    accord_memory = f"{fmt_mib(accord_run.peak_rss_kb)} (whole process)"
    if accord_run.timing:
        t = accord_run.timing
        rows.append(Row(
            "Accord", f"accord {version}", t["median_ns"], t["p10_ns"], t["p90_ns"], f"{t['load_ms']:.1f} ms",
            accord_memory, f"all {t['requests']:,}",
            "`accord eval --timing`: the compiled plan alone, in-process Swift, on requests already decoded "
            "(no JSON reading or writing, nothing recorded)"))
    else:
        per = accord_run.wall_s / n * 1e9
        rows.append(Row(
            "Accord", f"accord {version}", per, per, per,
            f"{(accord_run.one_request_wall_s or 0) * 1e3:.1f} ms (wall time of a run deciding one request: "
            "process start, load, one decision)", accord_memory, f"all {n:,}",
            "**no --timing in this build**: wall time of the whole `accord eval --requests` run ÷ requests "
            "(process start, policy load, JSON reading, deciding, writing every decision); no spread"))

    estimates = {"cedar": cedar_s / n, "cedar-batch": cedar_s / n, "rego": rego_s / n}
    results: dict[str, dict[str, Any]] = {}
    for kind in ("cedar", "cedar-batch", "rego"):
        # The timing pass decides the warm-up and then the sample: keep it within the budget.
        limit = n if estimates[kind] * (n + WARMUP) <= budget_s else \
            max(BATCH, int(budget_s / estimates[kind] - WARMUP) // BATCH * BATCH)
        results[kind] = run_worker(kind, work, min(limit, n))

    def timed_on(r: dict[str, Any]) -> str:
        return f"all {n:,}" if r["requests"] == n else f"first {r['requests']:,} (sample)"

    def memory(r: dict[str, Any]) -> str:
        return f"+{fmt_mib(r['rss_peak_kb'] - r['rss_base_kb'])} (worker {fmt_mib(r['rss_peak_kb'])})"

    def load_text(r: dict[str, Any]) -> str:
        return f"{r['load_ms']:.1f} ms (first call {r['first_ms']:.2f} ms)"

    cedar, batch, rego = results["cedar"], results["cedar-batch"], results["rego"]
    rows.append(Row(
        "Cedar", "cedarpy 4.12.2", cedar["median_ns"], cedar["p10_ns"], cedar["p90_ns"], load_text(cedar),
        memory(cedar), timed_on(cedar),
        "`cedarpy.is_authorized`, one call per resource: Python → Rust call, cedarpy building Cedar values from "
        "the request dict (datetimes parsed), Cedar's authorizer, the result object"))
    rows.append(Row(
        "Cedar, authorizer alone", "cedarpy 4.12.2", cedar["authz_median_ns"], cedar["authz_p10_ns"],
        cedar["authz_p90_ns"], "(as above)", "(as above)", timed_on(cedar),
        "the same calls' own `metrics['authz_duration_micros']` (whole µs per call), summed per request: "
        "Cedar's evaluation once the request is built (closest to Accord's figure)"))
    rows.append(Row(
        "Cedar, batched", "cedarpy 4.12.2", batch["median_ns"], batch["p10_ns"], batch["p90_ns"], load_text(batch),
        memory(batch), timed_on(batch),
        "`cedarpy.is_authorized_batch`, one call per 1,000 requests' resources: as the first Cedar row, with one "
        "crossing per batch"))
    rows.append(Row(
        "Rego", "regopy 1.5.2 (rego-cpp)", rego["median_ns"], rego["p10_ns"], rego["p90_ns"], load_text(rego),
        memory(rego), timed_on(rego),
        "`set_input_term` + `query_bundle_entrypoint` on the compiled bundle: rego-cpp parsing the request's JSON "
        "line, evaluation, regopy parsing the output JSON"))

    print()
    print("| Engine | Version | Per request (median) | Spread p10–p90 | Load / compile | Peak memory | Timed on "
          "| What the time includes |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        spread = "—" if row.p10_ns == row.p90_ns else f"{fmt_ns(row.p10_ns)} – {fmt_ns(row.p90_ns)}"
        print(f"| {row.engine} | {row.version} | {fmt_ns(row.median_ns)} | {spread} | {row.load} | {row.memory} "
              f"| {row.sample} | {row.includes} |")
    print()
    print(f"- Per request: a request asks about {resources / n:.2f} resources on average. Median and spread are "
          f"those of the mean time per request over batches of {BATCH:,} requests (10th and 90th percentile "
          f"batch), after {WARMUP:,} warm-up requests, as `accord eval --timing` measures.")
    print("- Load / compile: Accord reading, validating and compiling the policy folder (`load_ms`); Cedar "
          "`PolicySet.from_str` + `Entities.from_json_str`; Rego `add_module` + `add_data_json` + `build` of the "
          "bundle. First call: the first request after that.")
    print(f"- Peak memory: Accord, the `accord eval` process's own peak RSS over the streamed agreement run "
          f"(ru_maxrss from `wait4`; it is started by a small launcher, and a child doing nothing reads "
          f"{fmt_mib(accord_run.floor_kb)} there). Cedar and Rego: the growth of their timing worker's peak RSS "
          f"(VmHWM) over its RSS before the engine was imported (library, policies, evaluation, one batch of "
          f"input), and the worker's peak with the Python interpreter.")
    print(f"- Not timed: building the Cedar request dicts from the Accord requests, {marshal_s / n * 1e6:.1f} µs "
          f"per request in Python, done beforehand. Rego reads the same JSON line as Accord.")
    if accord_run.timing:
        print(f"- For scale: the whole `accord eval --requests` run (process start to the last decision written) "
              f"took {accord_run.wall_s:.2f} s for {n:,} requests, {accord_run.wall_s / n * 1e6:.1f} µs per request.")
    timed = sum(r["timed_s"] for r in results.values())
    print(f"- Run time: {time.perf_counter() - started:.0f} s in all: generation {prepared_s:.0f} s, agreement "
          f"{accord_s + cedar_s + rego_s:.0f} s, rules check {rules_s:.0f} s, Cedar and Rego timed loops "
          f"{timed:.0f} s.")


if __name__ == "__main__":
    main()
