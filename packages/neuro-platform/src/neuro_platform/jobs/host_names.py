"""The names a job is reached at, both ways: the names given to a job (on its owner's engine
network, and as the host of its HTTP port) and the job a request's `Host` names.

A job has two labels: its id (`job-<uuid>`) and, when it has a name, `<name>--<owner>`.
Jobs resolve each other as `<label>.jobs.internal` (hosts files, `hosts_file.py`); browsers
reach a job's HTTP port at `<label>.<[jobs] http_domain>` (the proxy, `proxy/app.py`).
"""

from __future__ import annotations

import re

from yarl import URL

from .entities import Job

# Jobs reach each other on their cluster's engine network under these names.
INTERNAL_DOMAIN = "jobs.internal"
# One DNS label: a job id (`job-<uuid>`) or `<name>--<owner>`; never a dot.
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def named_label(job: Job) -> str | None:
    return None if job.spec.name is None else f"{job.spec.name}--{job.base_owner}"


def internal_hostnames(job: Job) -> tuple[str, ...]:
    names = [f"{job.id}.{INTERNAL_DOMAIN}"]
    if (label := named_label(job)) is not None:
        names.append(f"{label}.{INTERNAL_DOMAIN}")
    return tuple(names)


def http_url(public_url: URL, http_domain: str, label: str) -> URL:
    """Where the reverse proxy serves a job's HTTP port: a host of its own (an origin apart from
    the platform's), with the scheme and port of the public URL since the proxy listens there."""
    return URL.build(
        scheme=public_url.scheme, host=f"{label}.{http_domain}", port=public_url.explicit_port
    )


def is_host_label(text: str) -> bool:
    return _LABEL.fullmatch(text) is not None


def job_label(host: str, http_domain: str) -> str | None:
    """The label of a job host, `<label>.<http domain>[:port]`, or None for any other host
    (the platform's, an IP, a deeper name such as `a.b.<domain>`)."""
    name = host.lower()
    if name.startswith("["):  # an IPv6 literal
        return None
    name = name.partition(":")[0]
    label, dot, domain = name.partition(".")
    if not dot or domain != http_domain or not is_host_label(label):
        return None
    return label
