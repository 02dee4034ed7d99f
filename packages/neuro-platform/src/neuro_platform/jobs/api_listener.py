"""The address jobs reach the API at (`NEURO_PASSED_CONFIG`'s URL).

The server listens on loopback by default, which a job's container cannot reach: its own
loopback is another. So the server also listens on one address of the host that containers
reach, by default the gateway of the engine's default bridge (docker0): every job network
routes there through the host, while the engine still keeps job networks apart from each
other. Only that listener and the main one serve the API; a job reaches no other address of
the host's loopback. `[jobs] api_host`/`api_port`/`api_url` choose it (see settings.py).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import replace

from yarl import URL

from ..orchestrator import DockerOrchestrator
from ..settings import Settings

log = logging.getLogger(__name__)

_ALL_ADDRESSES = ("", "0.0.0.0", "::")


def bind_jobs_listener(settings: Settings) -> tuple[socket.socket | None, Settings]:
    """A socket bound for the jobs' listener (None when there is none), and the settings
    with `jobs.api_url` filled in from it."""
    jobs = settings.jobs
    if jobs.api_host == "off":
        return None, settings
    host = jobs.api_host if jobs.api_host != "auto" else _default_gateway(settings)
    if host is None:
        log.warning("no engine bridge found: jobs are told the public URL %s", settings.public_url)
        return None, settings
    port = settings.server.port if jobs.api_port is None else jobs.api_port
    if settings.server.host in _ALL_ADDRESSES and port == settings.server.port:
        # The main listener takes every address, this one too (binding it here first would
        # keep the main one from starting).
        return None, _with_url(settings, URL.build(scheme="http", host=host, port=port))
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        # E.g. `[server] host = "0.0.0.0"` holds the port on every address already.
        log.warning("cannot listen on %s:%s for jobs (%s)", host, port, error.strerror)
        return None, _with_url(settings, URL.build(scheme="http", host=host, port=port))
    bound = sock.getsockname()[1]
    log.info("jobs reach the API at %s:%s", host, bound)
    return sock, _with_url(settings, URL.build(scheme="http", host=host, port=bound))


def _with_url(settings: Settings, url: URL) -> Settings:
    if settings.jobs.api_url is not None:
        return settings
    return replace(settings, jobs=replace(settings.jobs, api_url=url))


def _default_gateway(settings: Settings) -> str | None:
    async def ask() -> str | None:
        async with DockerOrchestrator(
            instance=settings.orchestrator_instance, docker_url=settings.jobs.docker_url
        ) as engine:
            return await engine.default_gateway()

    try:
        return asyncio.run(ask())
    except Exception:  # no engine: the platform serves everything but jobs
        log.exception("asking the engine for its bridge failed")
        return None
