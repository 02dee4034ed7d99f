"""The composition root (`composition.py`) and the shared HTTP layer (`api/`).

`api/` is what every slice builds on, so it may import no slice (an AST walk of its modules);
the services are built once, in one place, and their background loops end with them.
"""

from __future__ import annotations

import ast
import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import neuro_platform
from neuro_platform.api.keys import AUTHENTICATOR, GRANTS, PERMISSIONS, SHARING, USERS
from neuro_platform.app import create_app
from neuro_platform.composition import build_services
from neuro_platform.disks.keys import DISKS
from neuro_platform.jobs.job_tokens import JobScopedAuthenticator
from neuro_platform.jobs.keys import JOBS
from neuro_platform.monitoring.keys import MONITORING
from neuro_platform.registry.keys import PRIVATE_REGISTRY, UPSTREAM
from neuro_platform.secrets.keys import SECRETS
from neuro_platform.service_accounts.keys import SERVICE_ACCOUNTS
from neuro_platform.settings import CommandLineOverrides, Settings, load_settings

PACKAGE = "neuro_platform"
SOURCE_ROOT = Path(neuro_platform.__file__).parent
# What the HTTP layer may build on: itself, the settings and the database, and the kernel
# every slice uses to find the caller and check what they may do (`auth`, `permissions`).
# `errors` is the shared module of domain exception bases.
KERNEL = frozenset(
    {"api", "settings", "presets", "data_dir", "db", "errors", "auth", "permissions"}
)
BACKGROUND_TASKS = {
    "disk-refresh",
    "job-scheduler",
    "user-removals",
    "private registry",
    "registry gc",
}


def imported_modules(module: str, source: str) -> list[str]:
    """Every module of `PACKAGE` that `source` (the text of `module`) imports, absolute; for
    `from X import a, b`, also `X.a` and `X.b`, which may be modules."""
    package = module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.append(target)
            found += [f"{target}.{alias.name}" for alias in node.names]
    return [name for name in found if name == PACKAGE or name.startswith(f"{PACKAGE}.")]


def slice_imports(module: str, source: str) -> list[str]:
    """The imports of `module` that reach into a slice: any module outside `KERNEL`, and a
    kernel package's HTTP modules (`auth/handlers.py` is the OAuth slice). A slice's
    `errors` module is allowed: the one error mapping names the exceptions it answers."""
    wrong = []
    for name in imported_modules(module, source):
        parts = name.split(".")[1:]
        if not parts or parts == ["__version__"]:
            continue
        if parts[0] in KERNEL and "handlers" not in parts:
            continue
        if len(parts) >= 2 and parts[1] == "errors":
            continue
        wrong.append(name)
    return wrong


def test_the_http_layer_imports_no_slice() -> None:
    modules = sorted((SOURCE_ROOT / "api").glob("*.py"))
    assert len(modules) >= 7
    wrong = {
        path.name: slice_imports(f"{PACKAGE}.api.{path.stem}", path.read_text()) for path in modules
    }
    assert {name: imports for name, imports in wrong.items() if imports} == {}


@pytest.mark.parametrize(
    "source",
    [
        "from ..jobs.service import JobsService",
        "from .. import jobs",
        "import neuro_platform.storage.app",
        "from neuro_platform.disks import keys",
        "from ..auth.handlers import routes",
        "from ..auth import handlers",
        "from ..composition import build_services",
        "from ..app import create_app",
        "def later():\n    from ..users.handlers import routes",
    ],
)
def test_a_slice_import_in_the_http_layer_is_caught(source: str) -> None:
    assert slice_imports("neuro_platform.api.example", source) != []


@pytest.mark.parametrize(
    "source",
    [
        "import json\nfrom aiohttp import web",
        "from .keys import SETTINGS",
        "from . import openapi",
        "from .. import __version__",
        "from ..settings import Settings",
        "from ..auth.identity import NotAuthenticatedError",
        "from ..permissions import PermissionDeniedError",
        "from ..storage.errors import StorageError",
    ],
)
def test_the_kernel_and_domain_errors_are_allowed(source: str) -> None:
    assert slice_imports("neuro_platform.api.example", source) == []


def _settings(tmp_path: Path, config: str = "") -> Settings:
    config_file = tmp_path / "platform.toml"
    config_file.write_text(config)
    return load_settings(
        config_file, env={}, overrides=CommandLineOverrides(data_dir=tmp_path / "data")
    )


def _running_background_tasks() -> set[str]:
    return {task.get_name() for task in asyncio.all_tasks()} & BACKGROUND_TASKS


async def test_services_are_built_once_and_their_loops_end_with_them(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with build_services(settings) as services:
        codec = services.core.codec
        # One signing key, one codec: user, service-account and job tokens are all its own.
        assert services.authenticator._verified_tokens._codec is codec
        assert services.core.grants._codec is codec
        assert services.service_accounts._codec is codec
        assert services.job_tokens._codec is codec
        assert services.jobs._volume_access._disks is services.disks
        assert services.scheduler._mounts._disks is services.disks
        assert services.removals._jobs is services.jobs
        assert _running_background_tasks() == BACKGROUND_TASKS
        token = codec.issue("alice", timedelta(minutes=1))
    assert _running_background_tasks() == set()
    assert services.registry_upstream.closed

    # A restart on the same data dir reads the same signing key.
    async with build_services(settings) as again:
        assert again.core.codec is not codec
        assert again.core.codec.verify(token.token) == "alice"
    assert _running_background_tasks() == set()


async def test_a_start_that_fails_halfway_stops_what_it_started(tmp_path: Path) -> None:
    # The engine connection is made after the disk refresh has started; a name the engine
    # would refuse fails there.
    settings = _settings(tmp_path, '[jobs]\norchestrator_instance = "Not A Name!"\n')
    with pytest.raises(ValueError, match="instance"):
        async with build_services(settings):
            pytest.fail("started with an invalid orchestrator instance")
    assert _running_background_tasks() == set()


@pytest.mark.registry
async def test_the_application_serves_the_services_under_their_keys(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    runner = web.AppRunner(app)
    await runner.setup()  # runs the start-up: `build_services`
    try:
        assert isinstance(app[AUTHENTICATOR], JobScopedAuthenticator)
        keys: list[web.AppKey[Any]] = [USERS, GRANTS, PERMISSIONS, SHARING, SERVICE_ACCOUNTS]
        keys += [SECRETS, DISKS, JOBS, MONITORING]
        assert [key for key in [*keys, PRIVATE_REGISTRY] if key not in app] == []
        assert not app[UPSTREAM].closed
        assert _running_background_tasks() == BACKGROUND_TASKS
    finally:
        await runner.cleanup()
    assert _running_background_tasks() == set()
    assert app[UPSTREAM].closed
