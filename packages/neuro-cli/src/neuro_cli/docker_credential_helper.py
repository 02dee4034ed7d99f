"""``docker-credential-neuro``: the Docker credential-helper protocol over the neuro login.

``neuro config docker`` names this helper in the Docker config for the platform's
registry hosts. Docker then runs ``docker-credential-neuro get`` with the registry on
stdin and uses ``{"Username": "token", "Secret": <JWT>}`` (docs/protocol.md §6: the registry
takes the literal user ``token`` with a platform JWT). Nothing is ever stored: the token
is the one ``neuro login`` keeps, refreshed by the SDK when it is stale.
"""

from __future__ import annotations

import asyncio
import json
import sys

import neuro_sdk

# Docker's own wording for "no credentials for this server": it then goes on without auth.
NOT_FOUND = "credentials not found in native keychain"
USAGE = "Usage: docker-credential-neuro get|store|erase|list (run by docker, not by hand)"


def registry_key(server_url: str) -> str:
    """``https://127.0.0.1:8080/v2/`` or ``127.0.0.1:8080`` → ``127.0.0.1:8080``."""
    text = server_url.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    return text.split("/", 1)[0].lower()


def registry_hosts(config: neuro_sdk.Config) -> list[str]:
    """The registry host[:port] of every cluster the user may use."""
    hosts = (cluster.registry_url.host_port_subcomponent for cluster in config.clusters.values())
    return sorted({host.lower() for host in hosts if host})


async def _get(server_url: str) -> int:
    async with neuro_sdk.get() as client:
        if registry_key(server_url) not in registry_hosts(client.config):
            print(NOT_FOUND)
            return 1
        token = await client.config.token()
    print(json.dumps({"Username": "token", "Secret": token}))
    return 0


async def _list() -> int:
    async with neuro_sdk.get() as client:
        hosts = registry_hosts(client.config)
    print(json.dumps(dict.fromkeys(hosts, "token")))
    return 0


def run(action: str, stdin: str) -> int:
    if action == "get":
        return asyncio.run(_get(stdin))
    if action == "list":
        return asyncio.run(_list())
    if action == "store":
        # `docker login` against our registry: the neuro login is the only credential.
        print("Credentials are not stored: use 'neuro login' instead of 'docker login'")
        return 1
    if action == "erase":
        # `docker logout`: there is nothing of ours to erase; 'neuro logout' ends the login.
        return 0
    print(USAGE)
    return 2


def main() -> None:
    if len(sys.argv) != 2:
        print(USAGE)
        raise SystemExit(2)
    action = sys.argv[1]
    stdin = sys.stdin.read() if action in ("get", "store", "erase") else ""
    try:
        code = run(action, stdin)
    except Exception as exc:  # Docker shows the helper's stdout as the error
        print(" ".join(f"{type(exc).__name__}: {exc}".split()))
        code = 1
    raise SystemExit(code)
