"""The peer benchmark's workload: one personalisation policy, stated once, and random requests against it.

The policy (categories, purposes, consent scopes, jurisdictions, rules and retention limits) is fixed and written
out below as data. `resolve()` works out what Accord's language makes of it for each jurisdiction and leaf purpose
(the legal basis that wins, the consent scopes that can carry it, the settings a jurisdiction inherits), so that the
Cedar and Rego translations can state the same thing. `generate()` draws the features, subjects and requests from a
seed. `write_accord()` writes the policy as Accord YAML.

Requests only name leaf purposes and features whose categories are leaves, every subject names a declared
jurisdiction, and a subject holds at most one grant per consent scope. Within those limits Accord's reading of a
request (a name standing for its subtree, fallbacks, "best grant" ranking) coincides with what a Cedar or Rego
policy can state exactly; see README.md.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

AS_OF = "2026-06-01T00:00:00Z"
AS_OF_DT = datetime(2026, 6, 1, tzinfo=timezone.utc)

ACTIONS = ("read_online", "read_offline", "train", "aggregate", "export")

# --- The policy ---------------------------------------------------------------------------------------------------

# Leaf categories; `user.health` (and so everything beneath it) is sensitive.
LEAF_CATEGORIES = (
    "user.behavior.clicks", "user.behavior.views", "user.behavior.purchases", "user.behavior.search",
    "user.profile.age", "user.profile.gender", "user.profile.language",
    "user.location.city", "user.location.country", "user.location.precise",
    "user.device.identifiers", "user.device.telemetry",
    "user.contact.email", "user.contact.phone",
    "user.inferred.interests",
    "user.health.fitness", "user.health.heart_rate",
)
SENSITIVE_ROOTS = ("user.health",)

# Leaf purposes and the flags they carry (only `sale_or_share` is honoured anywhere: by US-CA's opt-out).
LEAF_PURPOSES: dict[str, tuple[str, ...]] = {
    "personalization.recommendations": (),
    "personalization.search": (),
    "ads.targeting": ("sale_or_share",),
    "ads.measurement": (),
    "analytics.aggregate": (),
    "analytics.product": (),
    "model.training": (),
    "service.delivery": (),
}


@dataclass(frozen=True)
class Scope:
    id: str
    purposes: tuple[str, ...]
    version: int = 1
    minimum_version: int = 1
    explicit_categories: tuple[str, ...] = ()
    expires_after: str | None = None


SCOPES = (
    Scope("personalization", ("personalization", "model.training"), version=3, minimum_version=2, expires_after="1y"),
    Scope("ads", ("ads",), expires_after="180d"),
    Scope("analytics", ("analytics",)),
    # Explicit consent (GDPR Art. 9(2)(a)) to health data, for recommendations only. It also covers the purpose,
    # so it is a candidate scope for the consent basis of personalization.recommendations too.
    Scope("health_insights", ("personalization.recommendations",), explicit_categories=("user.health",),
          expires_after="1y"),
    # Explicit consent to health data for the service itself (a fitness view), which rests on the contract.
    Scope("health_service", ("service.delivery",), explicit_categories=("user.health",), expires_after="1y"),
)


@dataclass(frozen=True)
class LegalBasis:
    purposes: tuple[str, ...]
    basis: Literal["consent", "legitimate_interest", "contract", "legal_obligation", "notice"]
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Jurisdiction:
    id: str
    extends: str | None = None
    fallback: bool = False
    age_of_consent: int | None = None
    minors: tuple[int, tuple[str, ...]] | None = None  # (under, refused purpose patterns)
    legal_bases: tuple[LegalBasis, ...] = ()
    opt_out_flags: tuple[str, ...] | None = None  # None: no opt_out section
    opt_out_signals: tuple[str, ...] = ()
    allowed_regions: tuple[str, ...] | None = None


JURISDICTIONS = (
    Jurisdiction(
        "EU", fallback=True, age_of_consent=16, minors=(18, ("ads.targeting",)),
        legal_bases=(
            LegalBasis(("personalization", "ads", "model.training"), "consent"),
            LegalBasis(("analytics.aggregate",), "consent", ("analytics",)),
            LegalBasis(("analytics.product",), "legitimate_interest"),
            LegalBasis(("service.delivery",), "contract"),
        ),
        allowed_regions=("EU", "UK")),
    # UK inherits the EU's minors rule and legal bases; its own age of consent and regions replace the EU's.
    Jurisdiction("UK", extends="EU", age_of_consent=13, allowed_regions=("UK", "EU", "US")),
    Jurisdiction(
        "US-CA", legal_bases=(LegalBasis(("*",), "notice"),), opt_out_flags=("sale_or_share",),
        opt_out_signals=("gpc",), minors=(16, ("ads.targeting",))),
    Jurisdiction(
        "BR", age_of_consent=12, minors=(16, ("model.training",)),
        legal_bases=(  # no basis for ads.measurement
            LegalBasis(("personalization", "ads.targeting", "model.training", "analytics.aggregate"), "consent"),
            LegalBasis(("analytics.product",), "legitimate_interest"),
            LegalBasis(("service.delivery",), "contract"),
        ),
        allowed_regions=("BR", "EU")),
)


@dataclass(frozen=True)
class Condition:
    """One rule condition, spelled in each language.

    `accord` is the `when`/`unless` text; `cedar` the body of the Cedar `when`/`unless` clause; `rego` the
    alternatives (each a list of body lines) under which the rule applies, with `unless` already negated.
    """
    kind: Literal["when", "unless"]
    accord: str
    cedar: str
    rego: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Rule:
    id: str
    effect: Literal["permit", "forbid"]
    purposes: tuple[str, ...]
    categories: tuple[str, ...]
    actions: tuple[str, ...] | None = None  # None: all actions
    except_: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] | None = None
    condition: Condition | None = None


RULES = (
    Rule("recs-behavioural", "permit", ("personalization.*",),
         ("user.behavior", "user.profile", "user.location", "user.inferred"), ("read_online", "read_offline"),
         except_=("user.profile.gender",)),
    Rule("recs-health", "permit", ("personalization.recommendations",), ("user.health",), ("read_online",)),
    Rule("training", "permit", ("model.training",),
         ("user.behavior", "user.profile", "user.location.city", "user.location.country"), ("train", "read_offline")),
    Rule("ads-targeting", "permit", ("ads.targeting",),
         ("user.behavior.clicks", "user.behavior.views", "user.inferred.interests", "user.location.city",
          "user.location.country"), ("read_online",),
         condition=Condition("when", "has(subject.age) && subject.age >= 13",
                             "context has age && context.age >= 13", (("input.subject.age >= 13",),))),
    Rule("ads-measurement", "permit", ("ads.measurement",), ("user.behavior",), ("aggregate",)),
    Rule("analytics-aggregate", "permit", ("analytics.aggregate",), ("*",), ("aggregate",),
         except_=("user.contact", "user.health", "user.location.precise"),
         condition=Condition("when", 'context.processing_region in ["EU", "UK", "US"]',
                             '["EU", "UK", "US"].contains(context.processing_region)',
                             (('input.context.processing_region in {"EU", "UK", "US"}',),))),
    Rule("product-analytics", "permit", ("analytics.product",), ("user.behavior", "user.device"),
         ("aggregate", "read_offline")),
    Rule("service-delivery", "permit", ("service.delivery",),
         ("user.contact", "user.location", "user.profile", "user.device", "user.health"), ("read_online", "export")),
    Rule("no-precise-location-outside-service", "forbid", ("*",), ("user.location.precise",),
         condition=Condition("unless", 'context.purpose == "service.delivery"',
                             'context.purpose == Purpose::"service.delivery"',
                             (('input.purpose != "service.delivery"',),))),
    Rule("no-export-of-contact-data", "forbid", ("*",), ("user.contact",), ("export",)),
    # EU only, so UK subjects (UK extends EU) are covered too.
    Rule("no-targeting-on-location-eu", "forbid", ("ads.targeting",), ("user.location",), jurisdictions=("EU",)),
    # Personalisation only: the service itself may show minors their health data, with explicit consent.
    Rule("no-health-data-of-minors", "forbid", ("personalization",), ("sensitive",),
         condition=Condition("when", "!has(subject.age) || subject.age < 18",
                             "!(context has age) || context.age < 18",
                             (("not is_number(input.subject.age)",), ("input.subject.age < 18",)))),
)


@dataclass(frozen=True)
class Retention:
    categories: tuple[str, ...]
    max_age: str
    purposes: tuple[str, ...] | None = None


RETENTION = (
    Retention(("user.behavior.clicks", "user.behavior.views"), "90d"),
    Retention(("user.behavior.search",), "30d"),
    Retention(("user.behavior.purchases",), "2y"),
    Retention(("user.behavior",), "1y", ("model.training",)),  # training uses a year of behaviour at most
    Retention(("user.location.precise",), "7d"),
    Retention(("user.location.city", "user.location.country"), "1y"),
    Retention(("user.health",), "180d"),
    Retention(("user.device",), "1y"),
    Retention(("user.device",), "30d", ("analytics",)),
    Retention(("user.inferred.interests",), "180d"),
    Retention(("user.contact",), "2y"),
    Retention(("user.profile.age", "user.profile.gender"), "2y"),
    Retention(("user.profile.language",), "3y"),
)


def duration_seconds(text: str) -> int:
    """Seconds in an Accord duration (`90d`, `1y` = 365 days, `2w`)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
    return int(text[:-1]) * units[text[-1]]


# --- What the language makes of it ------------------------------------------------------------------------------


def lineage(name: str) -> list[str]:
    """A dotted name and all its ancestors, nearest first: `a.b.c` → [a.b.c, a.b, a]."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def selects(pattern: str, name: str) -> bool:
    """Whether a purpose or category pattern (`a.b`, `a.b.*`, `*`; not `sensitive`) selects `name`."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        base = pattern[:-2]
        return name.startswith(base + ".")
    return name == pattern or name.startswith(pattern + ".")


def category_selects(pattern: str, category: str) -> bool:
    if pattern == "sensitive":
        return any(selects(root, category) for root in SENSITIVE_ROOTS)
    return selects(pattern, category)


def specificity(pattern: str) -> int:
    """Accord's ranking of legal-basis patterns: deeper bases first, `a.*` above `a`, `*` last."""
    if pattern == "*":
        return -1
    base = pattern[:-2] if pattern.endswith(".*") else pattern
    return 2 * len(base.split(".")) + (1 if pattern.endswith(".*") else 0)


@dataclass
class Settings:
    """One jurisdiction's effective settings after `extends`, and the legal basis of each leaf purpose."""
    id: str
    chain: list[str]  # itself, then what it extends
    age_of_consent: int | None
    minors: tuple[int, tuple[str, ...]] | None
    opt_out_flags: tuple[str, ...] | None
    opt_out_signals: tuple[str, ...]
    allowed_regions: tuple[str, ...] | None
    # leaf purpose → (basis, candidate scope ids); a purpose missing here has no legal basis
    bases: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


def resolve() -> dict[str, Settings]:
    """Each jurisdiction's settings as Accord applies them (language.md §5.4, §7.3)."""
    by_id = {j.id: j for j in JURISDICTIONS}
    out: dict[str, Settings] = {}
    for j in JURISDICTIONS:
        chain = [j]
        while chain[-1].extends:
            chain.append(by_id[chain[-1].extends])

        def nearest(attr: str) -> Any:
            for link in chain:
                if getattr(link, attr) is not None:
                    return getattr(link, attr)
            return None

        opt_out_owner = next((link for link in chain if link.opt_out_flags is not None), None)
        settings = Settings(
            j.id, [link.id for link in chain], nearest("age_of_consent"), nearest("minors"),
            opt_out_owner.opt_out_flags if opt_out_owner else None,
            opt_out_owner.opt_out_signals if opt_out_owner else (), nearest("allowed_regions"))
        for purpose in LEAF_PURPOSES:
            # The most specific matching entry wins; then the nearer jurisdiction; then the first listed.
            candidates = [(specificity(pattern), -distance, -index, entry)
                          for distance, link in enumerate(chain)
                          for index, entry in enumerate(link.legal_bases)
                          for pattern in entry.purposes if selects(pattern, purpose)]
            if not candidates:
                continue
            entry = max(candidates, key=lambda c: c[:3])[3]
            scopes = entry.scopes
            if entry.basis == "consent" and not scopes:
                scopes = tuple(s.id for s in SCOPES if any(selects(p, purpose) for p in s.purposes))
            settings.bases[purpose] = (entry.basis, scopes)
        out[j.id] = settings
    return out


def all_nodes(leaves: tuple[str, ...] | list[str]) -> list[str]:
    """Every name in the hierarchy the leaves imply, parents before children."""
    nodes: set[str] = set()
    for leaf in leaves:
        nodes.update(lineage(leaf))
    return sorted(nodes, key=lambda n: (n.count("."), n))


def purpose_flags(purpose: str) -> list[str]:
    """Flags a purpose carries: its own and its ancestors' (only leaves declare flags here)."""
    flags: set[str] = set()
    for name in lineage(purpose):
        flags.update(LEAF_PURPOSES.get(name, ()))
    return sorted(flags)


# --- Generated data -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    name: str
    category: str
    region: str | None


@dataclass
class Workload:
    seed: int
    features: list[Feature]
    requests: list[dict[str, Any]]  # Accord request JSON objects
    subjects: int


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def permit_rules_for(purpose: str) -> list[Rule]:
    return [r for r in RULES if r.effect == "permit" and any(selects(p, purpose) for p in r.purposes)]


def generate(seed: int, requests: int, features: int = 300, subjects: int = 10_000) -> Workload:
    rng = random.Random(seed)

    # Features: each a leaf category and (mostly) a storage region.
    category_weights = [3, 3, 2, 2, 2, 1, 1, 2, 2, 1, 1, 1, 1, 1, 2, 2, 2]
    catalog: list[Feature] = []
    for index in range(features):
        category = rng.choices(LEAF_CATEGORIES, category_weights)[0]
        region = rng.choices(["EU", "US", "BR", None], [60, 25, 10, 5])[0]
        catalog.append(Feature(f"{category.split('.')[-1]}_{index:03d}", category, region))

    # Subjects: age (sometimes unknown), jurisdiction, and the consent they carry.
    people: list[dict[str, Any]] = []
    for index in range(subjects):
        roll = rng.random()
        age = None if roll < 0.06 else rng.randint(10, 17) if roll < 0.30 else rng.randint(18, 80)
        jurisdiction = rng.choices(["EU", "UK", "US-CA", "BR"], [35, 15, 35, 15])[0]
        grants = []
        for scope, chance in (("personalization", 0.6), ("ads", 0.45), ("analytics", 0.5), ("health_insights", 0.3),
                              ("health_service", 0.4)):
            if rng.random() >= chance:
                continue
            spec = next(s for s in SCOPES if s.id == scope)
            roll = rng.random()
            if roll < 0.02:  # given in the future: ignored
                granted = AS_OF_DT + timedelta(seconds=rng.randint(1, 30 * 86400))
            elif roll < 0.04 and spec.expires_after:  # exactly as old as the scope lasts: expired
                granted = AS_OF_DT - timedelta(seconds=duration_seconds(spec.expires_after))
            else:  # half of them recent
                days = 150 if rng.random() < 0.5 else 540
                granted = AS_OF_DT - timedelta(seconds=rng.randint(0, days * 86400))
            grant: dict[str, Any] = {"scope": scope, "granted_at": stamp(granted)}
            if scope == "personalization":
                grant["version"] = rng.choices([3, 2, 1], [70, 15, 15])[0]  # 1 is below minimum_version
            if rng.random() < (0.6 if age is not None and age < 18 else 0.03):
                grant["by_guardian"] = True
            grants.append(grant)
        objections = [rng.choice(["analytics.product", "analytics", "ads.measurement"])] if rng.random() < 0.10 else []
        opt_outs: list[str] = []
        if rng.random() < (0.25 if jurisdiction == "US-CA" else 0.05):
            opt_outs = rng.sample(["sale_or_share", "ads", "ads.targeting", "profiling", "analytics"], rng.randint(1, 2))
        consent: dict[str, Any] = {}
        if grants:
            consent["grants"] = grants
        if objections:
            consent["objections"] = objections
        if opt_outs:
            consent["opt_outs"] = opt_outs
        subject: dict[str, Any] = {"id": f"s-{index:05d}", "jurisdiction": jurisdiction}
        if age is not None:
            subject["age"] = age
        people.append({"subject": subject, "consent": consent})

    # Which features each purpose's permits cover, so most requests ask for something plausible.
    relevant: dict[str, list[Feature]] = {}
    usual_actions: dict[str, list[str]] = {}
    for purpose in LEAF_PURPOSES:
        rules = permit_rules_for(purpose)
        relevant[purpose] = [f for f in catalog if any(
            any(category_selects(c, f.category) for c in r.categories) for r in rules)] or catalog
        usual_actions[purpose] = sorted({a for r in rules for a in (r.actions or ACTIONS)})
    limits: dict[str, int] = {}
    for category in LEAF_CATEGORIES:
        ages = [duration_seconds(r.max_age) for r in RETENTION if any(selects(c, category) for c in r.categories)]
        if ages:
            limits[category] = min(ages)
    home = {"EU": "EU", "UK": "UK", "US-CA": "US", "BR": "BR"}

    purposes = list(LEAF_PURPOSES)
    purpose_weights = [25, 10, 15, 8, 10, 10, 12, 10]
    out: list[dict[str, Any]] = []
    for index in range(requests):
        person = people[rng.randrange(subjects)]
        purpose = rng.choices(purposes, purpose_weights)[0]
        action = rng.choice(usual_actions[purpose]) if rng.random() < 0.85 else rng.choice(ACTIONS)
        count = rng.choices([1, 2, 3, 4], [90, 6, 3, 1])[0]
        chosen: list[Feature] = []
        while len(chosen) < count:
            feature = rng.choice(relevant[purpose]) if rng.random() < 0.75 else rng.choice(catalog)
            if feature not in chosen:
                chosen.append(feature)
        resources = []
        for feature in chosen:
            resource: dict[str, Any] = {"feature": feature.name}
            roll = rng.random()
            if roll < 0.01:
                pass  # no collected_at: every category has a retention limit, so this is refused
            elif roll < 0.03 and feature.category in limits:  # exactly as old as the limit: still usable
                resource["collected_at"] = stamp(AS_OF_DT - timedelta(seconds=limits[feature.category]))
            else:
                age_days = rng.uniform(0, 60) if rng.random() < 0.6 else rng.uniform(0, 1200)
                resource["collected_at"] = stamp(AS_OF_DT - timedelta(seconds=int(age_days * 86400)))
            resources.append(resource)
        jurisdiction = person["subject"]["jurisdiction"]
        context: dict[str, Any] = {
            "processing_region": home[jurisdiction] if rng.random() < 0.75 else rng.choice(["EU", "UK", "US", "BR"])}
        if rng.random() < 0.10:
            context["gpc"] = True
        request: dict[str, Any] = {
            "id": f"r-{index:06d}", "actor": {"id": "svc-" + purpose.split(".")[0]},
            "subject": person["subject"], "purpose": purpose, "action": action, "resources": resources,
            "context": context}
        if person["consent"]:
            request["consent"] = person["consent"]
        out.append(request)
    return Workload(seed, catalog, out, subjects)


# --- Accord YAML --------------------------------------------------------------------------------------------------


def _yaml(value: Any, indent: int = 0) -> list[str]:
    """A small YAML writer: block mappings and lists; scalars and lists of scalars in JSON spelling (valid YAML)."""
    pad = " " * indent
    lines: list[str] = []
    for key, item in value.items():
        if isinstance(item, dict):
            lines.append(f"{pad}{key}:")
            lines.extend(_yaml(item, indent + 2))
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            lines.append(f"{pad}{key}:")
            for element in item:
                sub = _yaml(element, indent + 4)
                lines.append(f"{pad}  - {sub[0].lstrip()}")
                lines.extend(sub[1:])
        else:
            lines.append(f"{pad}{key}: {json.dumps(item)}")
    return lines


def _document(kind: str, name: str, body: dict[str, Any]) -> str:
    header: dict[str, Any] = {"apiVersion": "accord/v1", "kind": kind, "metadata": {"name": name}}
    return "\n".join(_yaml(header | body)) + "\n"


def write_accord(workload: Workload, folder: Path) -> None:
    """The policy as an Accord policy folder: taxonomy, scopes, catalog, jurisdictions, rules."""
    folder.mkdir(parents=True, exist_ok=True)
    categories: list[Any] = [{"name": c} for c in LEAF_CATEGORIES]
    categories += [{"name": root, "sensitive": True} for root in SENSITIVE_ROOTS]
    purposes = [{"name": p, **{flag: True for flag in flags}} for p, flags in LEAF_PURPOSES.items()]
    (folder / "taxonomy.yaml").write_text(
        _document("Taxonomy", "peers-taxonomy", {"categories": categories, "purposes": purposes}))

    scopes = []
    for s in SCOPES:
        entry: dict[str, Any] = {"id": s.id, "version": s.version, "minimum_version": s.minimum_version,
                                 "purposes": list(s.purposes)}
        if s.explicit_categories:
            entry["explicit_categories"] = list(s.explicit_categories)
        if s.expires_after:
            entry["expires_after"] = s.expires_after
        scopes.append(entry)
    (folder / "scopes.yaml").write_text(_document("ConsentScopes", "peers-scopes", {"scopes": scopes}))

    features = [{"name": f.name, "category": f.category, **({"region": f.region} if f.region else {})}
                for f in workload.features]
    (folder / "catalog.yaml").write_text(_document("Catalog", "peers-catalog", {"features": features}))

    documents = []
    for j in JURISDICTIONS:
        body: dict[str, Any] = {"id": j.id}
        if j.extends:
            body["extends"] = j.extends
        if j.fallback:
            body["fallback"] = True
        if j.age_of_consent is not None:
            body["age_of_consent"] = j.age_of_consent
        if j.minors:
            body["minors"] = {"under": j.minors[0], "refuse": list(j.minors[1])}
        if j.legal_bases:
            body["legal_bases"] = [{"purposes": list(b.purposes), "basis": b.basis,
                                    **({"scopes": list(b.scopes)} if b.scopes else {})} for b in j.legal_bases]
        if j.opt_out_flags is not None:
            body["opt_out"] = {"flags": list(j.opt_out_flags), **(
                {"signals": list(j.opt_out_signals)} if j.opt_out_signals else {})}
        if j.allowed_regions:
            body["allowed_regions"] = list(j.allowed_regions)
        header = {"apiVersion": "accord/v1", "kind": "Jurisdiction"}
        documents.append("\n".join(_yaml(header | body)) + "\n")
    (folder / "jurisdictions.yaml").write_text("---\n".join(documents))

    rules = []
    for r in RULES:
        entry = {"id": r.id, "effect": r.effect, "purposes": list(r.purposes)}
        if r.actions:
            entry["actions"] = list(r.actions)
        entry["categories"] = list(r.categories)
        if r.except_:
            entry["except"] = list(r.except_)
        if r.jurisdictions:
            entry["jurisdictions"] = list(r.jurisdictions)
        if r.condition:
            entry[r.condition.kind] = r.condition.accord
        rules.append(entry)
    retention = [{"categories": list(r.categories), **({"purposes": list(r.purposes)} if r.purposes else {}),
                  "max_age": r.max_age, "on_expiry": "delete"} for r in RETENTION]
    (folder / "rules.yaml").write_text(
        _document("Policy", "peers-personalisation", {"rules": rules, "retention": retention}))
