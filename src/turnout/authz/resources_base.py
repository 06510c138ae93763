"""The vocabulary the per-service tables (``resources_*.py``) are written in.

A *spec* says where the resources of an operation come from: ``Given`` (a parameter that already holds ARNs),
``Template`` (a resource type's ARN template filled from parameters) or ``Custom`` (a function, for the few that
need a lookup). ``bind`` turns a spec into a resolver once per operation plan; resolvers run per request and
return :class:`Target` objects. Condition keys come from *extractors*: ``Callable[[Env], value]`` for request
keys, ``Callable[[Env, Target], value]`` for keys that depend on the resource.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.provider import NameResolver as NameResolver
from ..core.provider import TagLookup as TagLookup
from ..reference.authorization import ResourceType, ServiceReference, catalog
from .checks import ContextValue

if TYPE_CHECKING:
    from ..core.context import RequestContext
    from ..store.db import Database

Params = Mapping[str, Any]
KeyValue = ContextValue | dict[str, ContextValue] | None  # a dict for a ``.../${TagKey}`` family

# Filled by ``Gateway.register`` from what each provider declares (``Provider.tag_lookups``, ``name_resolvers``;
# see ``context.py``): a resource's stored tags by ARN, per service prefix; and the ARN of a resource a request names
# in a form only its provider can resolve, per "<prefix>:<resource type>".
resource_tag_lookups: dict[str, TagLookup] = {}
name_resolvers: dict[str, NameResolver] = {}


@dataclass(slots=True)
class Env:
    """What resolvers and extractors see of one request."""

    ctx: RequestContext
    db: Database
    account: str
    region: str
    params: Params
    operation: str


@dataclass(slots=True)
class Target:
    """One resource a call acts on. ``tags`` None: not known yet (looked up when a tag key applies).
    ``facts`` are condition keys the lookup already knows (an IAM role's permissions boundary)."""

    arn: str
    resource_type: str | None = None
    tags: dict[str, str] | None = None
    facts: dict[str, ContextValue] = field(default_factory=dict)
    policy: str | None = None  # the resource-based policy (a role's trust policy, a bucket policy)
    exists: bool = True
    account: str | None = None  # the owner when the ARN does not say (S3's ARNs have no account)


Resolver = Callable[[Env], list[Target]]
RequestExtractor = Callable[[Env], KeyValue]
ResourceExtractor = Callable[[Env, Target], KeyValue]


# -- reading parameters ------------------------------------------------------------------------------------------


def pluck(params: Params, path: str) -> Any:
    """``"a.b"`` walks structures; ``"a[].b"`` maps over a list (flattening lists of lists). None when absent."""
    if "." not in path and not path.endswith("[]"):
        return params.get(path)
    current: Any = params
    for part in path.split("."):
        if part.endswith("[]"):
            items = current.get(part[:-2]) if isinstance(current, Mapping) else None
            if not isinstance(items, list):
                return None
            current = items
            continue
        if isinstance(current, list):
            values = [item.get(part) for item in current if isinstance(item, Mapping)]
            flat: list[Any] = []
            for value in values:
                if isinstance(value, list):
                    flat.extend(value)
                elif value is not None:
                    flat.append(value)
            current = flat
        elif isinstance(current, Mapping):
            current = current.get(part)
        else:
            return None
        if current is None:
            return None
    return current


def strings(value: Any) -> list[str]:
    """A parameter value as a list of non-empty strings (a scalar becomes a one-item list)."""
    if value is None:
        return []
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str) and item]
    return [value] if isinstance(value, str) and value else []


def last_segment(value: str) -> str:
    """``arn:aws:ecs:r:a:cluster/prod`` -> ``prod``; a plain name stays as it is."""
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def account_of(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] or None if len(parts) == 6 else None


def boolean(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    return None


# -- specs -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """A placeholder's value: the first present parameter of ``names`` (a dotted path each), else ``default``.
    ``given``: a value that is already an ARN is the resource as given. ``reduce`` maps every other value."""

    names: tuple[str, ...]
    default: str | None = None
    reduce: Callable[[str], str] | None = None
    given: bool = False
    path: str | None = None  # IAM: the parameter holding a path to put before the name ("/" by default)

    def raw(self, params: Params) -> str | list[str] | None:
        for name in self.names:
            value = pluck(params, name)
            if isinstance(value, list):
                found = strings(value)
                if found:
                    return found
            elif isinstance(value, str) and value:
                if self.path is not None:
                    path = params.get(self.path)
                    return (path if isinstance(path, str) and path else "/")[1:] + value
                return value
            elif isinstance(value, int | float) and not isinstance(value, bool):
                return str(value)
        return self.default

    @property
    def needs(self) -> tuple[str, ...]:
        """Top-level parameter names of which one must exist in the operation (none with a default)."""
        return () if self.default is not None else tuple(n.split(".")[0].removesuffix("[]") for n in self.names)


def param(*names: str, default: str | None = None, reduce: Callable[[str], str] | None = None,
          given: bool = False, path: str | None = None) -> Param:
    return Param(tuple(names), default, reduce, given, path)


STAR = param(default="*")  # an identifier the call creates: unknown when AWS authorizes it


@dataclass(frozen=True)
class Spec:
    """Base: ``types`` are the resource types the spec produces; ``needs`` the parameters it requires (one of
    each group), checked against the operation's input when the plan is built."""

    types: tuple[str, ...]

    @property
    def needs(self) -> tuple[tuple[str, ...], ...]:
        return ()

    def bind(self, service: ServiceReference) -> Resolver:
        raise NotImplementedError


@dataclass(frozen=True)
class Given(Spec):
    """ARNs at ``path`` used as given (classified later against the action's resource types)."""

    path: str = ""

    @property
    def needs(self) -> tuple[tuple[str, ...], ...]:
        return ((self.path.split(".")[0].removesuffix("[]"),),)

    def bind(self, service: ServiceReference) -> Resolver:
        path = self.path

        def resolve(env: Env) -> list[Target]:
            return [Target(arn) for arn in strings(pluck(env.params, path)) if arn.startswith("arn:")]

        return resolve


def given(path: str, *types: str) -> Given:
    return Given(types, path)


@dataclass(frozen=True)
class Template(Spec):
    """A resource type's ARN template, its placeholders filled from ``values``. At most one placeholder may
    take a list (one resource per item); a missing value yields no resource."""

    values: tuple[tuple[str, Param], ...] = ()

    @property
    def needs(self) -> tuple[tuple[str, ...], ...]:
        return tuple(p.needs for _, p in self.values if p.needs)

    def bind(self, service: ServiceReference) -> Resolver:
        rtype = service.resource_types[self.types[0]]
        missing = set(rtype.parameters) - {name for name, _ in self.values}
        if missing:
            raise ValueError(f"{service.prefix}:{rtype.name} template needs {sorted(missing)}")
        values = self.values
        type_name = rtype.name

        def resolve(env: Env) -> list[Target]:
            fixed: dict[str, str] = {}
            listed: tuple[str, Param, list[str]] | None = None
            for name, source in values:
                raw = source.raw(env.params)
                if raw is None:
                    return []
                if isinstance(raw, list):
                    listed = (name, source, raw)
                elif source.given and raw.startswith("arn:"):
                    return [Target(raw, type_name)]
                else:
                    fixed[name] = source.reduce(raw) if source.reduce is not None else raw
            if listed is None:
                return [Target(_build(rtype, fixed, env), type_name)]
            name, source, items = listed
            out = []
            for item in items:
                if source.given and item.startswith("arn:"):
                    out.append(Target(item, type_name))
                    continue
                fixed[name] = source.reduce(item) if source.reduce is not None else item
                out.append(Target(_build(rtype, fixed, env), type_name))
            return out

        return resolve


def template(resource_type: str, **values: Param) -> Template:
    return Template((resource_type,), tuple(values.items()))


def _build(rtype: ResourceType, values: Mapping[str, str], env: Env) -> str:
    return rtype.build(values, account=env.account, region=env.region)


def build_arn(env: Env, prefix: str, type_name: str, *, account: str | None = None, region: str | None = None,
              **values: str) -> str:
    """The ARN of a resource of ``prefix``'s ``type_name``, from the reference's template: the caller's account
    and the request's region unless given (e.g. those of a related ARN)."""
    rtype = catalog().resource_type(prefix, type_name)
    if rtype is None:
        raise KeyError(f"{prefix} has no resource type {type_name}")
    return rtype.build(values, account=env.account if account is None else account,
                       region=env.region if region is None else region)


@dataclass(frozen=True)
class Custom(Spec):
    """A function of the request: ARNs (classified later) or targets."""

    fn: Callable[[Env], Iterable[str | Target]] = field(default=lambda env: ())
    requires: tuple[tuple[str, ...], ...] = ()

    @property
    def needs(self) -> tuple[tuple[str, ...], ...]:
        return self.requires

    def bind(self, service: ServiceReference) -> Resolver:
        fn = self.fn

        def resolve(env: Env) -> list[Target]:
            return [item if isinstance(item, Target) else Target(item) for item in fn(env) if item]

        return resolve


def custom(fn: Callable[[Env], Iterable[str | Target]], *types: str, needs: tuple[str, ...] = ()) -> Custom:
    return Custom(types, fn, tuple((n,) for n in needs))


# -- condition keys from parameters -------------------------------------------------------------------------------


def reads(*names: str) -> Callable[[RequestExtractor], RequestExtractor]:
    """Declare the top-level parameters an extractor reads: a plan leaves it out for an operation with none."""

    def mark(fn: RequestExtractor) -> RequestExtractor:
        fn.reads = names  # type: ignore[attr-defined]
        return fn

    return mark


def reads_any(fn: RequestExtractor, members: Iterable[str]) -> bool:
    names: tuple[str, ...] | None = getattr(fn, "reads", None)
    return names is None or any(name in members for name in names)


def value_of(path: str) -> RequestExtractor:
    """A condition key holding the parameter at ``path`` as a string (booleans ``true``/``false``, numbers in
    decimal), or a list of strings for a list parameter."""

    @reads(path.split(".")[0].removesuffix("[]"))
    def extract(env: Env) -> KeyValue:
        value = pluck(env.params, path)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, list):
            return strings(value) or None
        return value if isinstance(value, str) and value else None

    return extract


# -- tags in requests --------------------------------------------------------------------------------------------

# Parameters that carry tags ({Key, Value} / {key, value} members) and tag keys, across the six models.
TAG_LISTS = ("Tags", "tags", "TagsList", "TagSpecifications")
TAG_KEY_LISTS = ("TagKeys", "tagKeys")


def tag_pairs(value: Any) -> list[tuple[str, str]]:
    """Tags of a request as (key, value) pairs, whatever the model's spelling (EC2 tag specifications too)."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        return [(str(k), str(v)) for k, v in value.items()]
    if not isinstance(value, list):
        return pairs
    for item in value:
        if not isinstance(item, Mapping):
            continue
        if "Tags" in item and "Key" not in item:  # an EC2 TagSpecification
            pairs.extend(tag_pairs(item.get("Tags")))
            continue
        key = item.get("Key", item.get("key"))
        if isinstance(key, str):
            val = item.get("Value", item.get("value"))
            pairs.append((key, val if isinstance(val, str) else ""))
    return pairs


def request_tag_extractors(members: Iterable[str]) -> dict[str, RequestExtractor]:
    """``aws:RequestTag/${TagKey}`` and ``aws:TagKeys`` for an operation whose input has these members."""
    names = set(members)
    tag_param = next((n for n in TAG_LISTS if n in names), None)
    keys_param = next((n for n in TAG_KEY_LISTS if n in names), None)
    out: dict[str, RequestExtractor] = {}
    if tag_param is not None:
        def request_tags(env: Env) -> KeyValue:
            pairs = tag_pairs(env.params.get(tag_param))
            return {f"aws:RequestTag/{k}": v for k, v in pairs} or None

        def tag_keys(env: Env) -> KeyValue:
            pairs = tag_pairs(env.params.get(tag_param))
            return [k for k, _ in pairs] or None

        out["aws:RequestTag/${TagKey}"] = request_tags
        out["aws:TagKeys"] = tag_keys
    if keys_param is not None:
        def removed_keys(env: Env) -> KeyValue:
            return strings(env.params.get(keys_param)) or None

        out["aws:TagKeys"] = removed_keys
    return out


@dataclass(frozen=True)
class Extra:
    """A further check some requests add: ``action`` (same service) when ``when(params)``; on the call's own
    resources (``same_targets``) or on those of ``specs``; ``keys`` are constant condition keys it carries."""

    action: str
    when: Callable[[Params], bool]
    specs: tuple[Spec, ...] = ()
    same_targets: bool = False
    keys: Mapping[str, str] = field(default_factory=dict)


def has(*names: str) -> Callable[[Params], bool]:
    """True when any of the parameters is present and non-empty."""
    return lambda params: any(params.get(n) not in (None, "", [], {}) for n in names)


@dataclass(frozen=True)
class ServiceRules:
    """Everything Turnout knows about one service's authorization beyond the reference, as data."""

    prefix: str
    defaults: Mapping[str, tuple[Spec, ...]] = field(default_factory=dict)  # resource type -> specs
    ops: Mapping[str, tuple[Spec, ...]] = field(default_factory=dict)  # operation -> specs
    actions: Mapping[str, str] = field(default_factory=dict)  # operation -> action when not its name
    request_keys: Mapping[str, RequestExtractor] = field(default_factory=dict)
    op_keys: Mapping[str, Mapping[str, RequestExtractor]] = field(default_factory=dict)
    resource_keys: Mapping[str, ResourceExtractor] = field(default_factory=dict)
    extras: Mapping[str, tuple[Extra, ...]] = field(default_factory=dict)
    trust_ops: frozenset[str] = frozenset()  # operations whose resource policy is the role's trust policy
    # Specs for a resource type neither ``ops`` nor ``defaults`` covers (EC2: by the template's placeholder).
    infer: Callable[[ResourceType], tuple[Spec, ...]] | None = None
    # Further checks decided by an operation's input members (EC2's tag-on-create).
    extra_rule: Callable[[str, tuple[str, ...]], tuple[Extra, ...]] | None = None
    # Every target's ``policy`` is a resource-based policy evaluated with the caller's (S3's bucket policies).
    resource_policies: bool = False
