"""In-process policy evaluations per second: Turnout's engine side by side with moto's evaluator and cedarpy.

Workloads: (a) the seed's iam:PassRole check, allowed (iam:PassedToService = ecs.amazonaws.com) and denied
(ec2.amazonaws.com); (b) a generated 50-statement identity policy (ten services, wildcards, two Deny statements,
a few conditions) asked a fixed mix of ten requests; (c) the conformance corpus (../shared/conformance/iam-vectors/
vectors.jsonl, read in place): Turnout on every case, and Turnout and moto on the cases moto can express.
Every engine's decisions are checked against the expected ones before it is timed; the best of N timed loops is
reported (garbage collection off while timing, as timeit does).
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import REPO, git_state, machine_info, median, version_of, write_results
from .getrole import _seconds

NAME = "policy_engine"
ACCOUNT = "123456789012"
CALLER = f"arn:aws:iam::{ACCOUNT}:user/bench"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsInfrastructureRoleForLoadBalancers"
PASSROLE_POLICY: dict[str, Any] = {"Version": "2012-10-17", "Statement": [{
    "Action": "iam:PassRole",
    "Effect": "Allow",
    "Resource": ["arn:aws:iam::*:role/ecsInfrastructureRoleForLoadBalancers"],
    "Condition": {"StringEquals": {"iam:PassedToService": "ecs.amazonaws.com"}},
}]}
CORPUS = REPO.parent / "shared" / "conformance" / "iam-vectors" / "vectors.jsonl"
GOAL_MOTO = 2.0
GOAL_CEDAR = 10.0
MAX_REPS = 1_000_000
ALLOW, IMPLICIT, EXPLICIT = "Allow", "ImplicitDeny", "ExplicitDeny"
MOTO_NOTE = ("moto does LESS work: identity policy only, Action/NotAction/Resource, and StringEquals conditions "
             "(every other operator is skipped, a condition on an absent key passes, and its own request path "
             "passes no context at all); no policy types, variables, principals or service rules")
CEDAR_NOTE = ("cedarpy: the same statements translated to Cedar (wildcards as `like` on context.action / "
              "context.resource, conditions as context attributes); 'parsed' reuses PolicySet and Entities "
              "handles, 'text' passes the policy text, parsed again on every call (cedarpy's plain API)")


@dataclass(frozen=True)
class Probe:
    """One question to every engine, with the decision AWS gives."""

    label: str
    action: str
    resource: str
    context: Mapping[str, str]
    expected: str


@dataclass
class Engine:
    """An engine ready to time: its decisions on the probes, and ``unit`` evaluating every probe once."""

    name: str
    decisions: Sequence[str]
    unit: Callable[[], object]
    exact: bool  # decisions are three-valued (Turnout); else Allow/Deny only


# -- (a) and (b): the workloads ---------------------------------------------------------------------------------


def passrole_probes() -> list[Probe]:
    return [Probe("allowed", "iam:PassRole", ROLE, {"iam:PassedToService": "ecs.amazonaws.com"}, ALLOW),
            Probe("denied", "iam:PassRole", ROLE, {"iam:PassedToService": "ec2.amazonaws.com"}, IMPLICIT)]


SERVICES = ("ec2", "s3", "ecs", "elasticloadbalancing", "logs", "cloudwatch", "sqs", "sns", "dynamodb", "kms")
VERBS = ("Describe*", "List*", "Get*", "Put*", "Create*")
REGIONS = {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}
TEAM = {"StringLike": {"aws:PrincipalTag/team": "platform-*"}}


def fifty_statements() -> dict[str, Any]:
    """Statement i: service ``SERVICES[i % 10]``, verb ``VERBS[i // 10]``; Deny for s3:Put* and cloudwatch:Put*;
    i % 7 == 2 adds ``<service>:TagResource``; resources cycle through account-wide, ``*``, a team path in us-*
    regions, any account; i % 6 == 3 adds a region condition, else i % 9 == 4 a principal-tag condition;
    statement 49 is the seed's PassRole statement."""
    statements: list[dict[str, Any]] = []
    for i in range(49):
        service, verb = SERVICES[i % 10], VERBS[i // 10]
        resource = (f"arn:aws:{service}:*:{ACCOUNT}:*", "*", f"arn:aws:{service}:us-*:{ACCOUNT}:team-a/*",
                    f"arn:aws:{service}:*:*:*")[i % 4]
        statement: dict[str, Any] = {
            "Sid": f"S{i}", "Effect": "Deny" if verb == "Put*" and i % 10 in (1, 5) else "Allow",
            "Action": [f"{service}:{verb}", f"{service}:TagResource"] if i % 7 == 2 else f"{service}:{verb}",
            "Resource": resource,
        }
        if i % 6 == 3:
            statement["Condition"] = REGIONS
        elif i % 9 == 4:
            statement["Condition"] = TEAM
        statements.append(statement)
    statements.append({"Sid": "PassRoleToEcs", **PASSROLE_POLICY["Statement"][0]})
    return {"Version": "2012-10-17", "Statement": statements}


def fifty_probes() -> list[Probe]:
    def ctx(region: str = "us-east-1", **extra: str) -> dict[str, str]:
        return {"aws:RequestedRegion": region, "aws:PrincipalTag/team": "platform-core", **extra}
    arn = f"arn:aws:%s:%s:{ACCOUNT}:%s"
    return [
        # S0 ec2:Describe* on arn:aws:ec2:*:ACCOUNT:*
        Probe("ec2 describe", "ec2:DescribeInstances", arn % ("ec2", "us-east-1", "instance/i-0abc"), ctx(), ALLOW),
        # S31 Deny s3:Put* on arn:aws:s3:*:*:* (31 % 4 == 3), principal-tag condition (31 % 9 == 4) met
        Probe("s3 put (Deny)", "s3:PutObject", "arn:aws:s3:::bench-bucket/key", ctx(), EXPLICIT),
        # S21 s3:Get* on "*" (21 % 4 == 1) with the region condition (21 % 6 == 3): us-east-1 satisfies it
        Probe("s3 get (region cond.)", "s3:GetObject", "arn:aws:s3:::bench-bucket/key", ctx(), ALLOW),
        # the same from ap-south-1: the only s3:Get* statement's condition fails
        Probe("s3 get, other region", "s3:GetObject", "arn:aws:s3:::bench-bucket/key", ctx("ap-south-1"), IMPLICIT),
        # S44 logs:Create* (+ logs:TagResource) on arn:aws:logs:*:ACCOUNT:* (44 % 4 == 0), no condition
        Probe("logs create", "logs:CreateLogGroup", arn % ("logs", "eu-west-1", "log-group:app"), ctx("eu-west-1"),
              ALLOW),
        # no statement has a Delete* verb
        Probe("sqs delete (no match)", "sqs:DeleteQueue", arn % ("sqs", "us-east-1", "jobs"), ctx(), IMPLICIT),
        # only S2 grants ecs:TagResource (with ecs:Describe*), on the us-* team-a path: this one is in eu-west-1
        Probe("ecs tag, wrong path", "ecs:TagResource", arn % ("ecs", "eu-west-1", "team-a/svc"), ctx("eu-west-1"),
              IMPLICIT),
        # S4 logs:Describe* on arn:aws:logs:*:ACCOUNT:* (4 % 4 == 0), principal-tag condition (4 % 9 == 4)
        Probe("logs describe (tag cond.)", "logs:DescribeLogGroups", arn % ("logs", "us-east-1", "log-group:app"),
              ctx(), ALLOW),
        Probe("passrole to ecs", "iam:PassRole", ROLE, ctx(**{"iam:PassedToService": "ecs.amazonaws.com"}), ALLOW),
        Probe("passrole to ec2", "iam:PassRole", ROLE, ctx(**{"iam:PassedToService": "ec2.amazonaws.com"}), IMPLICIT),
    ]


# -- the engines ------------------------------------------------------------------------------------------------


Question = tuple[tuple[Any, ...], dict[str, Any], Any]  # make_request's arguments and keywords, the PolicySet
MotoQuestion = tuple[list[Any], str, str, dict[str, str]]  # moto's IAMPolicy objects, action, resource, context


def turnout_engine(questions: Sequence[Question], prebuilt: bool) -> Engine:
    """Turnout's ``evaluate``; the request is built per call (as moto and cedarpy get plain values) unless
    ``prebuilt``."""
    from turnout.policy import evaluate, make_request

    requests = [(make_request(*args, **keywords), policies) for args, keywords, policies in questions]
    decisions = [evaluate(request, policies).effect for request, policies in requests]

    # make_request called with its arguments spelled out, as a caller writes it (not through ``*args, **kwargs``)
    calls = [(*args, keywords.get("context"), keywords.get("resource_account"), policies)
             for args, keywords, policies in questions]

    def per_call() -> None:
        for principal, action, resource, context, resource_account, policies in calls:
            evaluate(make_request(principal, action, resource, context=context, resource_account=resource_account),
                     policies)

    def built() -> None:
        for request, policies in requests:
            evaluate(request, policies)

    return Engine("turnout (request prebuilt)" if prebuilt else "turnout", decisions,
                  built if prebuilt else per_call, exact=True)


def probe_questions(document: Mapping[str, Any], probes: Sequence[Probe]) -> list[Question]:
    from turnout.policy import PolicySet, compile_policy

    policies = PolicySet(identity=[compile_policy(json.dumps(document), policy_id="bench")])
    return [((CALLER, p.action, p.resource), {"context": dict(p.context)}, policies) for p in probes]


def moto_engine(questions: Sequence[MotoQuestion]) -> Engine:
    """moto's identity-policy check as its access control runs it: any DENIED denies, else any PERMITTED allows.
    The context is passed (moto's own request path does not), so that it can evaluate StringEquals."""
    from moto.iam.access_control import PermissionResult

    denied, permitted = PermissionResult.DENIED, PermissionResult.PERMITTED

    def decide(policies: list[Any], action: str, resource: str, context: dict[str, str]) -> bool:
        allowed = False
        for policy in policies:
            result = policy.is_action_permitted(action, resource, incoming_condition_values=context)
            if result is denied:
                return False
            allowed = allowed or result is permitted
        return allowed

    decisions = [ALLOW if decide(*question) else "Deny" for question in questions]

    def unit() -> None:
        for policies, action, resource, context in questions:
            decide(policies, action, resource, context)

    return Engine("moto", decisions, unit, exact=False)


def moto_questions(documents: Sequence[Mapping[str, Any]], probes: Sequence[Probe]) -> list[MotoQuestion]:
    from moto.iam.access_control import IAMPolicy

    policies = [IAMPolicy(json.dumps(document)) for document in documents]
    return [(policies, p.action, p.resource, dict(p.context)) for p in probes]


def cedar_engine(document: Mapping[str, Any], probes: Sequence[Probe], parsed: bool) -> Engine:
    import cedarpy

    text = cedar_policies(document)
    policies: Any = cedarpy.PolicySet.from_str(text) if parsed else text
    entities: Any = cedarpy.Entities.from_json_str("[]") if parsed else "[]"
    requests = [cedar_request(probe) for probe in probes]
    decisions = [ALLOW if cedarpy.is_authorized(r, policies, entities).allowed else "Deny" for r in requests]

    def unit() -> None:
        for request in requests:
            cedarpy.is_authorized(request, policies, entities)

    return Engine(f"cedarpy ({'parsed' if parsed else 'text'})", decisions, unit, exact=False)


def cedar_name(key: str) -> str:
    """A condition key as a Cedar context attribute: ``iam:PassedToService`` -> ``passedToService``."""
    name = key.split(":", 1)[-1].replace("/", "_")
    return name[:1].lower() + name[1:]


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _any(expressions: list[str]) -> str:
    return expressions[0] if len(expressions) == 1 else "(" + " || ".join(expressions) + ")"


def cedar_policies(document: Mapping[str, Any]) -> str:
    """Cedar for the statements this benchmark generates: Action, Resource, StringEquals and StringLike."""
    out = []
    for statement in _listed_statements(document):
        actions = _listed(statement["Action"])
        clauses: list[str] = []
        scope = "action"
        if any("*" in action for action in actions):
            clauses.append(_any([f"context.action like {json.dumps(action)}" for action in actions]))
        else:
            scope = "action in [" + ", ".join(f"Action::{json.dumps(action)}" for action in actions) + "]"
        resources = _listed(statement["Resource"])
        if "*" not in resources:
            clauses.append(_any([f"context.resource like {json.dumps(pattern)}" for pattern in resources]))
        for operator, keys in statement.get("Condition", {}).items():
            verb = {"StringEquals": "==", "StringLike": "like"}.get(operator)
            if verb is None:
                raise ValueError(f"no Cedar translation for {operator}")
            for key, values in keys.items():
                attribute = f"context.{cedar_name(key)}"
                tests = [f"{attribute} {verb} {json.dumps(value)}" for value in _listed(values)]
                clauses.append(f"context has {cedar_name(key)} && {_any(tests)}")
        keyword = "permit" if statement["Effect"] == "Allow" else "forbid"
        when = f"\nwhen {{ {' && '.join(clauses)} }}" if clauses else ""
        out.append(f"{keyword} (principal, {scope}, resource){when};")
    return "\n".join(out) + "\n"


def _listed_statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return [statements] if isinstance(statements, dict) else list(statements)


def cedar_request(probe: Probe) -> dict[str, Any]:
    context = {cedar_name(key): value for key, value in probe.context.items()}
    return {"principal": {"type": "User", "id": CALLER}, "action": {"type": "Action", "id": probe.action},
            "resource": {"type": "Resource", "id": probe.resource},
            "context": {**context, "action": probe.action, "resource": probe.resource}}


# -- (c): the conformance corpus --------------------------------------------------------------------------------

_OTHER_POLICY_TYPES = ("resource_policy", "permission_boundary", "scps", "session_policy", "rcps", "endpoint_policies")


def moto_can_express(case: Mapping[str, Any]) -> bool:
    """Identity policies only, an IAM caller in the resource's account, string context values, and statements
    made of Action/NotAction, Resource and StringEquals conditions, without policy variables."""
    request = case["request"]
    principal = request.get("principal") or ""
    if any(case.get(key) for key in _OTHER_POLICY_TYPES) or not principal.startswith("arn:"):
        return False
    if request.get("resource_account") not in (None, principal.split(":")[4]):
        return False
    if not all(isinstance(value, str) for value in (request.get("context") or {}).values()):
        return False
    for document in case.get("identity_policies") or []:
        if "${" in json.dumps(document):
            return False
        for statement in _listed_statements(document):
            if not isinstance(statement, dict) or "Resource" not in statement:
                return False
            if any(key in statement for key in ("NotResource", "Principal", "NotPrincipal")):
                return False
            if set(statement.get("Condition") or {}) - {"StringEquals"}:
                return False
    return True


@dataclass
class Corpus:
    cases: list[dict[str, Any]]  # every case the engine supports (the test suite's skips left out)
    skipped: int
    moto: list[int]  # indexes into cases: those moto can express and evaluates without raising
    moto_raises: int


def load_corpus(path: Path) -> Corpus | str:
    """The corpus, or why it cannot be run."""
    if not path.is_file():
        return f"conformance corpus not found at {path} (is ../shared beside the checkout?): part (c) skipped"
    try:
        from tests.policy.test_conformance import skip_reason
    except ImportError as exc:
        return f"cannot import the conformance harness (tests.policy.test_conformance: {exc}): part (c) skipped"
    every = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    cases = [case for case in every if skip_reason(case) is None]
    expressible, runs = [i for i, case in enumerate(cases) if moto_can_express(case)], []
    for i in expressible:
        try:  # moto turns wildcards into regular expressions, and some (``**``...) are not valid ones: it raises
            moto_corpus([cases[i]])
            runs.append(i)
        except Exception:
            continue
    return Corpus(cases, len(every) - len(cases), runs, len(expressible) - len(runs))


def corpus_questions(cases: Sequence[Mapping[str, Any]]) -> list[Question]:
    """The test suite's mapping of a case to the engine (``to_engine``), with make_request's arguments."""
    from tests.policy.test_conformance import to_engine

    questions: list[Question] = []
    for case in cases:
        raw = case["request"]
        args = (None if raw.get("anonymous") else raw["principal"], raw["action"], raw["resource"])
        keywords = {"resource_account": raw.get("resource_account"), "context": raw.get("context") or {}}
        questions.append((args, keywords, to_engine(dict(case))[1]))
    return questions


def moto_corpus(cases: Sequence[Mapping[str, Any]]) -> Engine:
    from moto.iam.access_control import IAMPolicy

    return moto_engine([([IAMPolicy(json.dumps(doc)) for doc in case["identity_policies"] or []],
                         case["request"]["action"], case["request"]["resource"],
                         dict(case["request"].get("context") or {})) for case in cases])


# -- timing -----------------------------------------------------------------------------------------------------


def _timed(unit: Callable[[], object], reps: int) -> float:
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(reps):
            unit()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def best_rate(unit: Callable[[], object], evaluations: int, loops: int, loop_seconds: float) -> dict[str, Any]:
    """Evaluations/s of the best of ``loops`` timed loops, each ~``loop_seconds`` (calibrated; warms up too)."""
    reps, elapsed = 1, _timed(unit, 1)
    while elapsed < 0.05 and reps < MAX_REPS:
        reps = min(MAX_REPS, reps * 4)
        elapsed = _timed(unit, reps)
    reps = max(1, min(MAX_REPS, round(reps * loop_seconds / max(elapsed, 1e-9))))
    samples = [_timed(unit, reps) for _ in range(loops)]
    rates = [reps * evaluations / sample for sample in samples]
    best = max(rates)
    return {"evals_per_s": round(best, 1), "us_per_eval": round(1e6 / best, 3),
            "median_evals_per_s": round(median(rates), 1), "loops": loops, "evaluations_per_loop": reps * evaluations}


def check(engine: Engine, expected: Sequence[str], labels: Sequence[str]) -> list[str]:
    """Mismatches between an engine's decisions and the expected ones (Allow/Deny only unless ``exact``)."""
    wrong = []
    for label, want, got in zip(labels, expected, engine.decisions, strict=True):
        ok = got == want if engine.exact else (got == ALLOW) == (want == ALLOW)
        if not ok:
            wrong.append(f"{label}: expected {want}, got {got}")
    return wrong


# -- the run ----------------------------------------------------------------------------------------------------

Builder = Callable[[], Engine]


def _rows_for(
    title: str, builders: Sequence[tuple[str, Builder]], expected: Sequence[str], labels: Sequence[str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Check, then time, every engine on one workload; prints a row as each finishes."""
    print(f"\n{title}", flush=True)
    results: dict[str, Any] = {}
    for row, build in builders:
        engine = build()
        wrong = check(engine, expected, labels)
        for line in wrong[:10]:
            print(f"  !!! MISMATCH {row}: {line}")
        if len(wrong) > 10:
            print(f"  !!! ... and {len(wrong) - 10} more mismatches of {row}")
        rate = best_rate(engine.unit, len(labels), args.loops, args.loop_seconds)
        results[row] = {**rate, "engine": engine.name, "decisions": len(labels),
                        "decisions_ok": len(labels) - len(wrong), "mismatches": wrong[:100]}
        print(f"  {row:<40} {rate['evals_per_s']:>12,.0f} evaluations/s  {rate['us_per_eval']:8.2f} us each  "
              f"decisions {len(labels) - len(wrong)}/{len(labels)} as expected", flush=True)
    return results


def _ratio(results: Mapping[str, Any], top: str, bottom: str) -> float | None:
    if top not in results or bottom not in results or not results[bottom]["evals_per_s"]:
        return None
    return round(float(results[top]["evals_per_s"]) / float(results[bottom]["evals_per_s"]), 2)


def _engines(document: dict[str, Any], probes: list[Probe], cedar: bool) -> list[tuple[str, Builder]]:
    builders: list[tuple[str, Builder]] = [
        ("turnout", lambda: turnout_engine(probe_questions(document, probes), prebuilt=False)),
        ("turnout (request prebuilt)", lambda: turnout_engine(probe_questions(document, probes), prebuilt=True)),
        ("moto", lambda: moto_engine(moto_questions([document], probes))),
    ]
    if cedar:
        builders += [("cedarpy (parsed)", lambda: cedar_engine(document, probes, parsed=True)),
                     ("cedarpy (text)", lambda: cedar_engine(document, probes, parsed=False))]
    return builders


def _probe_workload(title: str, document: dict[str, Any], probes: list[Probe], args: argparse.Namespace,
                    cedar: bool) -> dict[str, Any]:
    rows = _rows_for(title, _engines(document, probes, cedar), [p.expected for p in probes],
                     [p.label for p in probes], args)
    ratios = {"turnout/moto": _ratio(rows, "turnout", "moto"),
              "turnout/cedarpy (parsed)": _ratio(rows, "turnout", "cedarpy (parsed)"),
              "turnout/cedarpy (text)": _ratio(rows, "turnout", "cedarpy (text)")}
    print("  " + ", ".join(f"{name} {value:.2f}x" for name, value in ratios.items() if value is not None))
    return {"probes": [p.label for p in probes], "engines": rows, "ratios": ratios}


def _corpus_workload(corpus: Corpus, args: argparse.Namespace) -> dict[str, Any]:
    cases, subset = corpus.cases, [corpus.cases[i] for i in corpus.moto]
    expected, labels = [c["expected"] for c in cases], [c["id"] for c in cases]
    whole = _rows_for(f"(c) conformance corpus, {len(cases)} cases ({corpus.skipped} skipped as in the test suite): "
                      "Turnout only", [("turnout", lambda: turnout_engine(corpus_questions(cases), prebuilt=False)),
                                       ("turnout (request prebuilt)",
                                        lambda: turnout_engine(corpus_questions(cases), prebuilt=True))],
                      expected, labels, args)
    part = _rows_for(f"(c) the {len(subset)} cases moto can express (identity policies, no conditions but "
                     "StringEquals, no variables/NotResource/Principal; "
                     f"{corpus.moto_raises} more on which moto raises left out)",
                     [("turnout", lambda: turnout_engine(corpus_questions(subset), prebuilt=False)),
                      ("moto", lambda: moto_corpus(subset))],
                     [c["expected"] for c in subset], [c["id"] for c in subset], args)
    ratio = _ratio(part, "turnout", "moto")
    print(f"  turnout/moto {ratio:.2f}x on moto's subset" if ratio is not None else "")
    return {"cases": len(cases), "skipped": corpus.skipped, "moto_cases": len(subset),
            "moto_raises": corpus.moto_raises, "whole": whole,
            "moto_subset": part, "ratios": {"turnout/moto": ratio}}


def _goals(workloads: Mapping[str, Any]) -> dict[str, Any]:
    print(f"\nsummary: Turnout's throughput over the other engine's (goals: >= {GOAL_MOTO:g}x moto, "
          f">= {GOAL_CEDAR:g}x cedarpy)")
    summary: dict[str, Any] = {}
    for label, goal in (("turnout/moto", GOAL_MOTO), ("turnout/cedarpy (parsed)", GOAL_CEDAR),
                        ("turnout/cedarpy (text)", GOAL_CEDAR)):
        values = {key: data["ratios"][label] for key, data in workloads.items() if data["ratios"].get(label)}
        if values:
            summary[label] = {"ratios": values, "goal": goal, "met": min(values.values()) >= goal}
            print(f"  {label:<26} " + ", ".join(f"{k} {v:.2f}x" for k, v in values.items())
                  + f"  -> goal >= {goal:g}x {'met' if summary[label]['met'] else 'NOT met'}")
    print(f"  note: {MOTO_NOTE}.\n  note: {CEDAR_NOTE}.")
    return summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--parts", default="a,b,c", help="workloads: a (PassRole), b (50 statements), c (corpus)")
    parser.add_argument("--loops", type=int, choices=range(1, 21), default=5, metavar="N",
                        help="timed loops per engine and workload, the best reported (default 5)")
    parser.add_argument("--loop-seconds", type=_seconds(0.02, 5), default=0.2,
                        help="length of one timed loop (default 0.2)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help=f"conformance vectors (default {CORPUS})")
    parser.add_argument("--out", type=Path, default=None, help="results directory (default bench/results)")


def run(args: argparse.Namespace) -> int:
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not parts or parts - {"a", "b", "c"}:
        raise SystemExit("--parts: a comma-separated subset of a,b,c")
    try:
        import moto  # noqa: F401
    except ImportError:
        raise SystemExit("moto is not installed: pip install -e '.[test,bench]' (make bench does it)") from None
    try:
        import cedarpy  # noqa: F401
        cedar = True
    except ImportError:
        cedar = False
        print("cedarpy is not installed (pip install cedarpy): its rows are skipped")
    source, started = git_state(REPO), time.strftime("%Y-%m-%dT%H:%M:%S%z")
    print(f"policy engine benchmark: Turnout from {source['path']} at {source.get('commit') or 'an unknown commit'}"
          f"{' with uncommitted changes' if source.get('dirty') else ''}; moto {version_of('moto')}, cedarpy "
          f"{version_of('cedarpy')}; best of {args.loops} loops of ~{args.loop_seconds:g}s, one core, in process")
    workloads: dict[str, Any] = {}
    notes: list[str] = []
    if "a" in parts:
        for probe in passrole_probes():
            workloads[f"passrole {probe.label}"] = _probe_workload(
                f"(a) the seed's PassRole check, {probe.label} (iam:PassedToService "
                f"{probe.context['iam:PassedToService']})", PASSROLE_POLICY, [probe], args, cedar)
    if "b" in parts:
        probes = fifty_probes()
        workloads["fifty statements"] = _probe_workload(
            f"(b) a 50-statement policy, a mix of {len(probes)} requests", fifty_statements(), probes, args, cedar)
    if "c" in parts:
        corpus = load_corpus(args.corpus)
        if isinstance(corpus, str):
            print(f"\n(c) {corpus}")
            notes.append(corpus)
        else:
            workloads["corpus"] = _corpus_workload(corpus, args)
    summary = _goals(workloads)
    turnout_wrong = [f"{name}: {row}" for name, data in workloads.items()
                     for group in (data.get("engines"), data.get("whole"), data.get("moto_subset")) if group
                     for row, result in group.items() if row.startswith("turnout") and result["mismatches"]]
    if turnout_wrong:
        print("\n!!! Turnout gave unexpected decisions in: " + "; ".join(turnout_wrong))
    payload = {
        "benchmark": NAME,
        "started": started,
        "settings": {"parts": sorted(parts), "loops": args.loops, "loop_seconds": args.loop_seconds,
                     "corpus": str(args.corpus), "gc": "disabled while timing"},
        "machine": {**machine_info(), "cedarpy": version_of("cedarpy")},
        "turnout_source": source,
        "notes": [MOTO_NOTE, CEDAR_NOTE, *notes],
        "workloads": workloads,
        "summary": summary,
    }
    path = write_results(NAME, payload, args.out or Path(__file__).resolve().parent / "results")
    print(f"\nresults: {path}")
    return 1 if turnout_wrong else 0
