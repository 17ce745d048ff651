"""The workload's policy in Rego: a module plus a data document; the input is the Accord request itself.

The data document holds the vocabulary (each purpose's and category's lineage, purpose flags, the catalog) and each
jurisdiction's effective settings as `workload.resolve()` works them out (after `extends`, the winning legal basis
and candidate consent scopes per leaf purpose), the consent scopes and the retention limits. The module checks them
the way Accord's decision procedure does (language.md §7), and each Accord rule becomes a Rego `permit`/`forbid`
function of a resource. `decision` is one boolean per requested resource, in order.

The input is the same JSON line Accord reads, so Rego parses timestamps itself. One workaround: rego-cpp 1.5's
`time.parse_rfc3339_ns` refuses a trailing `Z` (it accepts the same instant written `+00:00`), so `ts` rewrites it.
"""

from __future__ import annotations

import json
from typing import Any

import workload as w

PACKAGE = "privacy"
ENTRYPOINT = f"{PACKAGE}/decision"

_PRELUDE = r'''
package privacy

import rego.v1

# rego-cpp 1.5's time.parse_rfc3339_ns refuses a trailing "Z"; the same instant written +00:00 it accepts.
ts(s) := time.parse_rfc3339_ns(concat("", [trim_suffix(s, "Z"), "+00:00"])) if endswith(s, "Z")

ts(s) := time.parse_rfc3339_ns(s) if not endswith(s, "Z")

now := ts(data.world.as_of)

purpose := input.purpose

plin := data.world.purposes[purpose].lineage # the purpose and its ancestors

pflags := data.world.purposes[purpose].flags

jur := data.world.jurisdictions[input.subject.jurisdiction]

jlin := jur.chain # the jurisdiction and those it extends

basis := jur.bases[purpose]

default grants := []

grants := input.consent.grants

# One entry per requested resource, with what the catalog says about it.
resources := [x |
	some r in input.resources
	f := data.world.features[r.feature]
	c := data.world.categories[f.category]
	x := {"r": r, "clin": c.lineage, "sensitive": c.sensitive, "region": object.get(f, "region", "")}
]

decision := [allowed(x) | some x in resources]

# Default deny: some permit applies, no forbid does, and the request as a whole is not refused.
allowed(x) := true if {
	permit(x)
	not forbid(x)
	not refused
} else := false

selects_purpose(p) if p == "*"

selects_purpose(p) if {
	not endswith(p, ".*")
	p in plin
}

selects_purpose(p) if {
	endswith(p, ".*")
	base := trim_suffix(p, ".*")
	base in plin
	purpose != base
}

# A currently valid grant (language.md 7.3): not outdated, already given, not lapsed.
valid(g) if {
	s := data.world.scopes[g.scope]
	object.get(g, "version", 1) >= s.minimum_version
	t := ts(g.granted_at)
	t <= now
	not lapsed(s, t)
}

lapsed(s, t) if now >= t + s.expires_ns

guardian(g) if g.by_guardian == true

# --- Refusals of the whole request: legal basis, objection, opt-out, minors, processing region.

refused if not jur.bases[purpose]

refused if {
	basis.basis == "consent"
	not consent_ok
}

refused if {
	basis.basis == "legitimate_interest"
	some o in input.consent.objections
	o in plin
}

refused if opted_out

refused if {
	m := jur.minors
	some p in m.refuse
	selects_purpose(p)
	not input.subject.age >= m.under
}

refused if {
	regions := jur.allowed_regions
	not input.context.processing_region in regions
}

consent_ok if {
	not jur.age_of_consent
	some g in grants
	g.scope in basis.scopes
	valid(g)
}

consent_ok if {
	input.subject.age >= jur.age_of_consent
	some g in grants
	g.scope in basis.scopes
	valid(g)
}

consent_ok if {
	jur.age_of_consent
	is_number(input.subject.age)
	some g in grants
	g.scope in basis.scopes
	guardian(g)
	valid(g)
}

optable if {
	some f in jur.opt_out.flags
	f in pflags
}

opted_out if {
	optable
	some e in input.consent.opt_outs
	e in plin
}

opted_out if {
	some f in jur.opt_out.flags
	f in pflags
	f in input.consent.opt_outs
}

opted_out if {
	optable
	jur.opt_out.gpc
	input.context.gpc == true
}

# --- Refusals of one resource: storage region, explicit consent, retention.

forbid(x) if {
	regions := jur.allowed_regions
	x.region != ""
	not x.region in regions
}

forbid(x) if {
	x.sensitive
	not explicit_ok(x)
}

# Retention limits are listed under each category they name; a resource meets those of its category's lineage.
forbid(x) if {
	some c in x.clin
	some limit in data.world.retention[c]
	retention_purpose(limit)
	stale(x, limit)
}

explicit_grant(g, x) if {
	s := data.world.scopes[g.scope]
	some c in s.explicit_categories
	c in x.clin
	some p in s.purposes
	selects_purpose(p)
	valid(g)
}

explicit_ok(x) if {
	not jur.age_of_consent
	some g in grants
	explicit_grant(g, x)
}

explicit_ok(x) if {
	input.subject.age >= jur.age_of_consent
	some g in grants
	explicit_grant(g, x)
}

explicit_ok(x) if {
	jur.age_of_consent
	is_number(input.subject.age)
	some g in grants
	guardian(g)
	explicit_grant(g, x)
}

retention_purpose(limit) if not limit.purposes

retention_purpose(limit) if {
	some p in limit.purposes
	selects_purpose(p)
}

stale(x, _) if not x.r.collected_at

stale(x, limit) if now - ts(x.r.collected_at) > limit.max_age_ns

# --- The rules.
'''


def _set(values: tuple[str, ...] | list[str]) -> str:
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


def _category_lines(patterns: tuple[str, ...]) -> list[str]:
    """Body lines: the resource's category is selected by one of `patterns` (empty: all are)."""
    if "*" in patterns:
        return []
    plain = [p for p in patterns if p != "sensitive"]
    assert not any(p.endswith(".*") for p in plain), "category patterns a.* are not translated"
    if "sensitive" in patterns and plain:
        raise AssertionError("mixing `sensitive` with names is not translated")
    if "sensitive" in patterns:
        return ["x.sensitive"]
    return ["some c in x.clin", f"c in {_set(plain)}"]


def _purpose_lines(patterns: tuple[str, ...]) -> list[str]:
    if "*" in patterns:
        return []
    if len(patterns) == 1:
        return [f"selects_purpose({json.dumps(patterns[0])})"]
    return [f"some p in {json.dumps(list(patterns))}", "selects_purpose(p)"]


def module() -> str:
    out = [_PRELUDE]
    for rule in w.RULES:
        name = rule.id.replace("-", "_")
        body: list[str] = []
        if rule.actions:
            body.append(f"input.action in {_set(rule.actions)}")
        body += _purpose_lines(rule.purposes)
        body += _category_lines(rule.categories)
        if rule.except_:
            body.append(f"not except_{name}(x)")
            out.append(f"except_{name}(x) if {{\n\t" + "\n\t".join(_category_lines(rule.except_)) + "\n}\n")
        if rule.jurisdictions:
            body += ["some j in jlin", f"j in {_set(rule.jurisdictions)}"]
        alternatives = rule.condition.rego if rule.condition else ((),)
        for alternative in alternatives:
            lines = body + list(alternative)
            out.append(f"# {rule.id}\n{rule.effect}(x) if {{\n\t" + "\n\t".join(lines or ["true"]) + "\n}\n")
    return "\n".join(out)


def data(workload: w.Workload) -> dict[str, Any]:
    def nanoseconds(duration: str) -> int:
        return w.duration_seconds(duration) * 1_000_000_000

    def expand(patterns: tuple[str, ...]) -> list[str]:
        """Category patterns as names whose subtree they select (`sensitive` → the roots marked so)."""
        names: list[str] = []
        for p in patterns:
            assert p != "*" and not p.endswith(".*")
            names += list(w.SENSITIVE_ROOTS) if p == "sensitive" else [p]
        return names

    jurisdictions: dict[str, Any] = {}
    for jid, s in w.resolve().items():
        entry: dict[str, Any] = {
            "chain": s.chain,
            "bases": {p: {"basis": basis, "scopes": list(scopes)} for p, (basis, scopes) in s.bases.items()}}
        if s.age_of_consent is not None:
            entry["age_of_consent"] = s.age_of_consent
        if s.minors:
            entry["minors"] = {"under": s.minors[0], "refuse": list(s.minors[1])}
        if s.opt_out_flags is not None:
            entry["opt_out"] = {"flags": list(s.opt_out_flags), "gpc": "gpc" in s.opt_out_signals}
        if s.allowed_regions:
            entry["allowed_regions"] = list(s.allowed_regions)
        jurisdictions[jid] = entry
    scopes: dict[str, Any] = {}
    for scope in w.SCOPES:
        spec: dict[str, Any] = {"minimum_version": scope.minimum_version, "purposes": list(scope.purposes),
                                "explicit_categories": expand(scope.explicit_categories)}
        if scope.expires_after:
            spec["expires_ns"] = nanoseconds(scope.expires_after)
        scopes[scope.id] = spec
    retention: dict[str, list[dict[str, Any]]] = {}
    for limit in w.RETENTION:
        spec = {"max_age_ns": nanoseconds(limit.max_age)}
        if limit.purposes:
            spec["purposes"] = list(limit.purposes)
        for category in expand(limit.categories):
            retention.setdefault(category, []).append(spec)
    return {"world": {
        "as_of": w.AS_OF,
        "purposes": {p: {"lineage": w.lineage(p), "flags": w.purpose_flags(p)} for p in w.all_nodes(list(w.LEAF_PURPOSES))},
        "categories": {c: {"lineage": w.lineage(c), "sensitive": w.category_selects("sensitive", c)}
                       for c in w.all_nodes(w.LEAF_CATEGORIES)},
        "features": {f.name: {"category": f.category, **({"region": f.region} if f.region else {})}
                     for f in workload.features},
        "jurisdictions": jurisdictions, "scopes": scopes, "retention": retention}}
