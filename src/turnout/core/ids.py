"""Identifiers in AWS's formats, generated in one place."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import secrets
import string

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"

# IAM unique-id prefixes (IAM User Guide, "Unique identifiers").
PREFIXES = {
    "role": "AROA",
    "user": "AIDA",
    "group": "AGPA",
    "policy": "ANPA",
    "policy_version": "ANVA",
    "instance_profile": "AIPA",
    "access_key": "AKIA",
    "temporary_access_key": "ASIA",
}


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def unique_id(kind: str) -> str:
    """A 21-character IAM unique id (``AROA`` + 17), as AWS issues them."""
    return PREFIXES[kind] + _random(_BASE32, 17)


def access_key_id(temporary: bool = False) -> str:
    return PREFIXES["temporary_access_key" if temporary else "access_key"] + _random(_BASE32, 16)


def secret_access_key() -> str:
    return _random(_SECRET_ALPHABET, 40)


def session_token() -> str:
    # Real tokens are opaque base64 of several hundred characters; length is not part of any contract.
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(258)).decode()[:343] + "="


_VARIANT = str.maketrans("0123456789abcdef", "89ab89ab89ab89ab")  # RFC 4122's variant digit (binary 10xx)


def uuid4_text(h: str) -> str:
    """The text of a version-4 UUID made of 32 lower-case hex digits ``h``: the version digit set to 4 and the
    variant bits to 10, as ``str(uuid.UUID(hex=h, version=4))`` gives, without building a UUID object."""
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16].translate(_VARIANT)}{h[17:20]}-{h[20:32]}"


_generator = random.Random()  # seeded from the OS; its own, so that nothing seeding the shared one repeats our ids
os.register_at_fork(after_in_child=_generator.seed)  # a forked worker draws ids of its own
_bits = _generator.getrandbits


def request_id() -> str:
    """A random (version 4) UUID, as AWS's request ids are (every request makes one). From a pseudo-random
    generator seeded by the OS rather than the OS's randomness itself (a system call every request): a request id
    names a call, it guards nothing."""
    return uuid4_text(f"{_bits(128):032x}")


def hex_id(length: int = 16) -> str:
    return secrets.token_hex(length // 2 + 1)[:length]


def ec2_id(prefix: str) -> str:
    """An EC2 resource id: the prefix, a dash and 17 lowercase hex digits (``vpc-0a1b...``, ``sg-...``, ``sgr-...``).

    ``prefix`` may be given with or without its dash (``"vpc"`` or ``"vpc-"``).
    """
    return f"{prefix.removesuffix('-')}-{hex_id(17)}"


_ALNUM = string.ascii_letters + string.digits


def log_file_suffix(seed: str) -> str:
    """The 16 alphanumerics that end a CloudTrail log file's name (``..._<yyyymmddTHHMMZ>_<16>.json.gz``).

    AWS's are random; these are derived from ``seed`` (the trail, region and first event of the file) so that a
    delivery repeated after a crash rewrites the same file instead of adding a duplicate.
    """
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    chars = []
    for _ in range(16):
        number, index = divmod(number, len(_ALNUM))
        chars.append(_ALNUM[index])
    return "".join(chars)


_URLSAFE = string.ascii_letters + string.digits + "-_"


def ecs_task_id() -> str:
    """A task id: 32 lowercase hex digits."""
    return secrets.token_hex(16)


def ecs_service_deployment_id() -> str:
    """A service deployment id: 21 URL-safe characters (AWS's examples, aws-facts §3: ``EZe5RNVLH6PPzHXINuP28``,
    ``NCWGC2ZR-taawPAYrIaU5``)."""
    return _random(_ALNUM, 1) + _random(_URLSAFE, 20)


def ecs_number_id() -> str:
    """A 19-digit number: the id of a service revision, which the ``ecs-svc/<id>`` entry of Service.deployments[]
    of the deployment that created it shares (the Terraform provider's steady-state waiter finds the service
    deployment of ``ecs-svc/<n>`` by looking for ``<n>`` in the listed ``targetServiceRevisionArn``s)."""
    return str(secrets.randbelow(9 * 10**18) + 10**18)


def ecs_hook_id(hook_type: str) -> str:
    """A lifecycle hook execution id: ``ecs-<type>-`` and 43 URL-safe characters (``ecs-pause-e7tK9G_...``)."""
    return f"ecs-{hook_type.lower()}-" + _random(_URLSAFE, 43)


def ecs_event_id() -> str:
    """A service event id (a UUID, as AWS's are)."""
    return request_id()
