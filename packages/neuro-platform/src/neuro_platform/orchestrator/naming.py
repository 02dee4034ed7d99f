"""How the Docker runtime names and labels the containers it owns.

Containers are found by name (`neuro-<instance>-<job id>`), never by a stored engine id, so a
restarted platform needs nothing but its job ids. The instance label keeps two platforms, or two
test sessions, on one dockerd from adopting each other's containers.
"""

from __future__ import annotations

import re

LABEL_INSTANCE = "platform.neuro.instance"
LABEL_JOB_ID = "platform.neuro.job-id"
LABEL_OWNER = "platform.neuro.owner"
LABEL_NETWORK = "platform.neuro.network"
RESERVED_LABEL_PREFIX = "platform.neuro."

# Docker's own rule for container names. Checking job ids against it also keeps a crafted id
# ("../images/x") from reaching another endpoint of the engine API, whose paths embed the name.
_SAFE_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}")


def check_name_part(kind: str, value: str) -> str:
    if not _SAFE_NAME.fullmatch(value):
        raise ValueError(f"Invalid {kind} {value!r}: use letters, digits, '_', '.' and '-'")
    return value


def container_name(instance: str, job_id: str) -> str:
    return f"neuro-{instance}-{check_name_part('job id', job_id)}"


def network_name(instance: str, name: str) -> str:
    return f"neuro-{instance}-{check_name_part('network name', name)}"
