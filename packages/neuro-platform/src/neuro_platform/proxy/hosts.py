"""Which job a request's `Host` names: `<job id | name--owner>.<http domain>[:port]`."""

from __future__ import annotations

import re

# One DNS label: a job id (`job-<uuid>`) or `<name>--<owner>`; never a dot.
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def is_host_label(text: str) -> bool:
    return _LABEL.fullmatch(text) is not None


def job_label(host: str, http_domain: str) -> str | None:
    """The label of a job host, or None for any other host (the platform's, an IP, a deeper
    name such as `a.b.<domain>`)."""
    name = host.lower()
    if name.startswith("["):  # an IPv6 literal
        return None
    name = name.partition(":")[0]
    label, dot, domain = name.partition(".")
    if not dot or domain != http_domain or not is_host_label(label):
        return None
    return label
