"""The workload's policy in Cedar, and Accord requests as Cedar requests (one per resource).

Entities (no schema): `Purpose` and `Category` nodes with their parents, so `in` walks the hierarchy; each `Feature`
is a child of its category and carries its storage `region`; `Jurisdiction::"UK"` is a child of `EU` (UK extends
EU). A Purpose also carries `lineage` (itself and its ancestors) and `flags`, which the objection and opt-out
policies compare with the request's lists.

Policies: one Cedar permit or forbid per Accord rule, then forbids for what Accord checks besides the rules (legal
basis and consent, objections, opt-outs, minors, regions, explicit consent for sensitive data, retention), written
from the settings `workload.resolve()` works out for each jurisdiction. Cedar permits a request when some permit
applies and no forbid does, which is Accord's default deny with forbid overriding.

The request's subject, consent and context go in Cedar's `context`; timestamps are Cedar `datetime` values and
Cedar's own `offset`/comparisons judge expiry and retention against `context.now` (the decision instant). The
grants list becomes a record keyed by scope id (a subject holds at most one grant per scope in this workload),
because Cedar cannot quantify over a set of records.
"""

from __future__ import annotations

import json
from typing import Any

import workload as w


def _purpose(pattern: str) -> str:
    """A Cedar expression: the request's purpose is selected by `pattern`."""
    if pattern == "*":
        return "true"
    if pattern.endswith(".*"):
        base = pattern[:-2]
        return f'(context.purpose in Purpose::"{base}" && context.purpose != Purpose::"{base}")'
    return f'context.purpose in Purpose::"{pattern}"'


def _category(pattern: str) -> str:
    """A Cedar expression: the resource's category is selected by `pattern`."""
    if pattern == "*":
        return "true"
    if pattern == "sensitive":
        return "(" + " || ".join(f'resource in Category::"{root}"' for root in w.SENSITIVE_ROOTS) + ")"
    if pattern.endswith(".*"):
        base = pattern[:-2]
        return f'(resource in Category::"{base}" && resource.category != "{base}")'
    return f'resource in Category::"{pattern}"'


def _any(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"


def _not(expr: str) -> str:
    return f"!({expr})"


def _duration(text: str) -> str:
    """An Accord duration as a Cedar duration (Cedar has no `y` or `w`)."""
    return f'duration("{w.duration_seconds(text) // 86400}d")' if text[-1] in "dwy" else f'duration("{text}")'


def _grant(scope: w.Scope, guardian: bool = False) -> str:
    """A Cedar expression: the subject holds a currently valid grant of `scope` (language.md §7.3)."""
    g = f"context.grants.{scope.id}"
    parts = [f"context.grants has {scope.id}"]
    if scope.minimum_version > 1:  # a grant without a version is version 1
        parts.append(f"{g} has version && {g}.version >= {scope.minimum_version}")
    parts.append(f"{g}.granted_at <= context.now")  # a grant given after the instant is ignored
    if scope.expires_after:
        parts.append(f"context.now < {g}.granted_at.offset({_duration(scope.expires_after)})")
    if guardian:
        parts.append(f"{g} has by_guardian && {g}.by_guardian")
    return "(" + " && ".join(parts) + ")"


def _in_list(values: list[str], entity: str, expr: str) -> str:
    return "[" + ", ".join(f'{entity}::"{v}"' for v in values) + f"].contains({expr})"


def _entities(kind: str, names: list[str]) -> str:
    return "[" + ", ".join(f'{kind}::"{n}"' for n in names) + "]"


def _sensitive_groups() -> list[tuple[list[str], list[w.Scope]]]:
    """Sensitive leaf categories grouped by the scopes whose explicit consent covers them."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for category in w.LEAF_CATEGORIES:
        if w.category_selects("sensitive", category):
            covering = tuple(s.id for s in w.SCOPES if any(w.category_selects(c, category)
                                                            for c in s.explicit_categories))
            groups.setdefault(covering, []).append(category)
    scopes = {s.id: s for s in w.SCOPES}
    return [(categories, [scopes[i] for i in ids]) for ids, categories in groups.items()]


def policies() -> str:
    out: list[str] = []
    for rule in w.RULES:
        action = "action"
        if rule.actions:
            action = "action in [" + ", ".join(f'Action::"{a}"' for a in rule.actions) + "]"
        body = [_any([_purpose(p) for p in rule.purposes]), _any([_category(c) for c in rule.categories])]
        if rule.except_:
            body.append(_not(_any([_category(c) for c in rule.except_])))
        if rule.jurisdictions:
            body.append(_any([f'context.jurisdiction in Jurisdiction::"{j}"' for j in rule.jurisdictions]))
        text = f'@id("{rule.id}")\n{rule.effect}(principal, {action}, resource)\nwhen {{ ' + " && ".join(body) + " }"
        if rule.condition:
            text += f"\n{rule.condition.kind} {{ {rule.condition.cedar} }}"
        out.append(text + ";")

    scopes = {s.id: s for s in w.SCOPES}
    for jid, settings in w.resolve().items():
        here = f'context.jurisdiction == Jurisdiction::"{jid}"'
        # Legal basis: missing, consent (with the age of consent), legitimate interest (objections).
        missing = [p for p in w.LEAF_PURPOSES if p not in settings.bases]
        if missing:
            out.append(f'@id("{jid}:legal-basis-missing")\nforbid(principal, action, resource)\n'
                       f'when {{ {here} && {_in_list(missing, "Purpose", "context.purpose")} }};')
        groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for purpose, key in settings.bases.items():
            groups.setdefault(key, []).append(purpose)
        for (basis, candidates), purposes in groups.items():
            which = _in_list(purposes, "Purpose", "context.purpose")
            if basis == "consent":
                valid = _any([_grant(scopes[s]) for s in candidates]) if candidates else "false"
                if settings.age_of_consent is not None:
                    guardian = _any([_grant(scopes[s], guardian=True) for s in candidates]) if candidates else "false"
                    valid = (f"(context has age && ((context.age >= {settings.age_of_consent} && {valid}) "
                             f"|| {guardian}))")
                out.append(f'@id("{jid}:consent:{"+".join(purposes)}")\nforbid(principal, action, resource)\n'
                           f"when {{ {here} && {which} && {_not(valid)} }};")
            elif basis == "legitimate_interest":
                out.append(f'@id("{jid}:objection:{"+".join(purposes)}")\nforbid(principal, action, resource)\n'
                           f"when {{ {here} && {which} && context.objections.containsAny(context.purpose.lineage) }};")
        # Opt-out: only purposes carrying a flag the jurisdiction lists can be opted out of here.
        if settings.opt_out_flags:
            flags = "[" + ", ".join(f'"{f}"' for f in settings.opt_out_flags) + "]"
            asked = ["context.opt_outs.containsAny(context.purpose.lineage)"]
            asked += [f'(context.purpose.flags.contains("{f}") && context.opt_outs.contains("{f}"))'
                      for f in settings.opt_out_flags]
            if "gpc" in settings.opt_out_signals:
                asked.append("context.gpc")
            out.append(f'@id("{jid}:opt-out")\nforbid(principal, action, resource)\n'
                       f"when {{ {here} && context.purpose.flags.containsAny({flags}) && {_any(asked)} }};")
        if settings.minors:
            under, refused = settings.minors
            out.append(f'@id("{jid}:minors")\nforbid(principal, action, resource)\n'
                       f"when {{ {here} && {_any([_purpose(p) for p in refused])} "
                       f"&& (!(context has age) || context.age < {under}) }};")
        if settings.allowed_regions:
            regions = "[" + ", ".join(f'"{r}"' for r in settings.allowed_regions) + "]"
            out.append(f'@id("{jid}:processing-region")\nforbid(principal, action, resource)\n'
                       f"when {{ {here} && !(context has processing_region "
                       f"&& {regions}.contains(context.processing_region)) }};")
            out.append(f'@id("{jid}:storage-region")\nforbid(principal, action, resource)\n'
                       f"when {{ {here} && resource has region && {_not(regions + '.contains(resource.region)')} }};")
        # Explicit consent for sensitive data, where an age of consent applies: below it, by a guardian.
        if settings.age_of_consent is not None:
            for categories, covering in _sensitive_groups():
                by_guardian = _any([f"({_any([_purpose(p) for p in s.purposes])} && {_grant(s, guardian=True)})"
                                    for s in covering]) if covering else "false"
                out.append(f'@id("{jid}:explicit-consent-age:{"+".join(categories)}")\n'
                           f"forbid(principal, action, resource)\n"
                           f"when {{ {here} && resource in {_entities('Category', categories)} && "
                           f"!(context has age && (context.age >= {settings.age_of_consent} || {by_guardian})) }};")

    # Explicit consent for sensitive data, everywhere: a valid grant of a scope covering the category and purpose.
    for categories, covering in _sensitive_groups():
        ok = _any([f"({_any([_purpose(p) for p in s.purposes])} && {_grant(s)})" for s in covering]) \
            if covering else "false"
        out.append(f'@id("explicit-consent:{"+".join(categories)}")\nforbid(principal, action, resource)\n'
                   f"when {{ resource in {_entities('Category', categories)} && {_not(ok)} }};")

    # Retention: data older than any applicable limit (exactly as old is still usable), or of unknown age.
    for index, limit in enumerate(w.RETENTION):
        body = [_any([_category(c) for c in limit.categories])]
        if limit.purposes:
            body.append(_any([_purpose(p) for p in limit.purposes]))
        body.append(f"(!(context has collected_at) || "
                    f"context.collected_at.offset({_duration(limit.max_age)}) < context.now)")
        out.append(f'@id("retention-{index}")\nforbid(principal, action, resource)\nwhen {{ ' + " && ".join(body) + " };")
    return "\n\n".join(out) + "\n"


def entities(workload: w.Workload) -> list[dict[str, Any]]:
    def uid(kind: str, name: str) -> dict[str, str]:
        return {"type": kind, "id": name}

    def parent(name: str) -> list[str]:
        return [name.rsplit(".", 1)[0]] if "." in name else []

    out: list[dict[str, Any]] = []
    for name in w.all_nodes(list(w.LEAF_PURPOSES)):
        out.append({"uid": uid("Purpose", name), "parents": [uid("Purpose", p) for p in parent(name)],
                    "attrs": {"lineage": w.lineage(name), "flags": w.purpose_flags(name)}})
    for name in w.all_nodes(w.LEAF_CATEGORIES):
        out.append({"uid": uid("Category", name), "parents": [uid("Category", p) for p in parent(name)], "attrs": {}})
    for f in workload.features:
        attrs: dict[str, Any] = {"category": f.category}
        if f.region:
            attrs["region"] = f.region
        out.append({"uid": uid("Feature", f.name), "parents": [uid("Category", f.category)], "attrs": attrs})
    for j in w.JURISDICTIONS:
        out.append({"uid": uid("Jurisdiction", j.id),
                    "parents": [uid("Jurisdiction", j.extends)] if j.extends else [], "attrs": {}})
    return out


def _datetime(text: str) -> dict[str, Any]:
    return {"__extn": {"fn": "datetime", "arg": text}}


def requests(request: dict[str, Any], as_of: str) -> list[dict[str, Any]]:
    """One Accord request as Cedar requests, one per resource, in order.

    Lists and flags the request may leave out get the defaults Accord gives them (no grants, no objections or
    opt-outs, `gpc` false); optional facts (age, collected_at, processing region) stay optional.
    """
    consent = request.get("consent", {})
    grants: dict[str, Any] = {}
    for g in consent.get("grants", []):
        grant: dict[str, Any] = {"granted_at": _datetime(g["granted_at"])}
        if "version" in g:
            grant["version"] = g["version"]
        if "by_guardian" in g:
            grant["by_guardian"] = g["by_guardian"]
        grants[g["scope"]] = grant
    context: dict[str, Any] = {
        "now": _datetime(as_of),
        "purpose": {"__entity": {"type": "Purpose", "id": request["purpose"]}},
        "jurisdiction": {"__entity": {"type": "Jurisdiction", "id": request["subject"]["jurisdiction"]}},
        "grants": grants,
        "objections": consent.get("objections", []),
        "opt_outs": consent.get("opt_outs", []),
        "gpc": request.get("context", {}).get("gpc", False),
    }
    if "age" in request["subject"]:
        context["age"] = request["subject"]["age"]
    if "processing_region" in request.get("context", {}):
        context["processing_region"] = request["context"]["processing_region"]
    out = []
    for resource in request["resources"]:
        per = dict(context)
        if "collected_at" in resource:
            per["collected_at"] = _datetime(resource["collected_at"])
        out.append({"principal": {"type": "Subject", "id": request["subject"]["id"]},
                    "action": {"type": "Action", "id": request["action"]},
                    "resource": {"type": "Feature", "id": resource["feature"]},
                    "context": per})
    return out


def entities_json(workload: w.Workload) -> str:
    return json.dumps(entities(workload))
