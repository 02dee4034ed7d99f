"""The server's layering rules (CONTRIBUTING.md, "The server: one folder per resource"), read
from the source: handlers talk to services only, and only the scheduler, the jobs slice's
services and adapters, and the monitoring service talk to the container engine.

Each rule is a function of `{module path: source}`, so every test also shows the rule
catching a synthetic violation: a rule that cannot fail proves nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import neuro_platform

SRC = Path(neuro_platform.__file__).parent

# HTTP modules that are not named `handlers.py`: the monitoring routes, split by concern,
# and the proxy (a handler of every path on a job's host) with its redirects.
HTTP_MODULES = frozenset(
    {
        "monitoring/handlers.py",
        "monitoring/interactive.py",
        "monitoring/port_forward.py",
        "monitoring/running.py",
        "monitoring/save.py",
        "proxy/app.py",
        "proxy/legacy.py",
    }
)

# Who may import the `orchestrator` package, besides the package itself and `testing/`
# (fixtures that start and clean up containers). Each with why.
ORCHESTRATOR_USERS = {
    "jobs/scheduler.py": "the one place that starts, watches and collects containers",
    "composition.py": "the composition root: builds the engine client and hands it to services",
    "jobs/service.py": "records the job reasons (`JobReason`) the orchestrator defines",
    "jobs/api_listener.py": "asks the engine for the bridge address jobs reach the API at",
    "jobs/job_images.py": "the registry credentials (`RegistryAuth`) a job's pull uses",
    "jobs/job_mounts.py": "the scheduler's adapter: storage, secrets, disks as bind mounts",
    "jobs/job_networks.py": "the scheduler's adapter: one engine network per owner",
    "jobs/log_archive.py": "archive file names follow the engine's name rules",
    "jobs/log_archiver.py": "the scheduler's adapter: copies a container's output",
    "jobs/engine_wait.py": "the scheduler's adapter: a start waiting in the engine's queue",
    "monitoring/service.py": "logs, usage, signals, exec/attach, port forward, save",
}


def is_http_module(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name == "handlers.py" or name.endswith("_handler.py") or path in HTTP_MODULES


def imported_modules(path: str, source: str) -> Iterator[str]:
    """Every module `source` (at `path` under `neuro_platform/`) names in an import, dotted
    and absolute; for `from X import y` both `X` and `X.y` (y may be a module)."""
    package = ["neuro_platform", *path.removesuffix(".py").split("/")][:-1]
    if path.endswith("__init__.py"):
        package = ["neuro_platform", *path.split("/")[:-1]]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def _names(module: str, part: str) -> bool:
    return part in module.split(".")


def handler_violations(modules: Mapping[str, str]) -> list[str]:
    """HTTP modules that import a repository module or the orchestrator package."""
    return [
        f"{path} imports {module}"
        for path, source in modules.items()
        if is_http_module(path)
        for module in sorted(set(imported_modules(path, source)))
        if _names(module, "repository") or module.startswith("neuro_platform.orchestrator")
    ]


def orchestrator_violations(modules: Mapping[str, str]) -> list[str]:
    """Modules outside the allowed list that import the orchestrator package."""
    return [
        f"{path} imports {module}"
        for path, source in modules.items()
        if path not in ORCHESTRATOR_USERS and not path.startswith(("orchestrator/", "testing/"))
        for module in sorted(set(imported_modules(path, source)))
        if module == "neuro_platform.orchestrator"
        or module.startswith("neuro_platform.orchestrator.")
    ]


def server_modules() -> dict[str, str]:
    return {
        path.relative_to(SRC).as_posix(): path.read_text()
        for path in sorted(SRC.rglob("*.py"))
        if "migrations" not in path.parts
    }


def test_the_walk_sees_the_handlers() -> None:
    modules = server_modules()
    http = {path for path in modules if is_http_module(path)}
    assert {"jobs/handlers.py", "secrets/handlers.py", "users/handlers.py"} <= http
    assert http >= HTTP_MODULES


def test_no_handler_imports_a_repository_or_the_orchestrator() -> None:
    assert handler_violations(server_modules()) == []


def test_the_handler_rule_catches_violations() -> None:
    synthetic = {
        "secrets/handlers.py": "from .repository import SecretRef\n",
        "jobs/handlers.py": "from .. import orchestrator\n",
        "monitoring/save.py": "from ..orchestrator import RegistryAuth\n",
        "proxy/app.py": "import neuro_platform.jobs.repository\n",
        "users/handlers.py": "from ..permissions.repository import RoleExistsError\n",
        "disks/handlers.py": "from .service import DisksService\n",  # allowed
    }
    assert handler_violations(synthetic) == [
        "secrets/handlers.py imports neuro_platform.secrets.repository",
        "secrets/handlers.py imports neuro_platform.secrets.repository.SecretRef",
        "jobs/handlers.py imports neuro_platform.orchestrator",
        "monitoring/save.py imports neuro_platform.orchestrator",
        "monitoring/save.py imports neuro_platform.orchestrator.RegistryAuth",
        "proxy/app.py imports neuro_platform.jobs.repository",
        "users/handlers.py imports neuro_platform.permissions.repository",
        "users/handlers.py imports neuro_platform.permissions.repository.RoleExistsError",
    ]


def test_only_the_scheduler_services_and_adapters_import_the_orchestrator() -> None:
    modules = server_modules()
    assert orchestrator_violations(modules) == []
    # The list names real modules, each of which needs its entry.
    assert [path for path in ORCHESTRATOR_USERS if path not in modules] == []
    unused = [
        path
        for path in ORCHESTRATOR_USERS
        if not any(
            m.startswith("neuro_platform.orchestrator")
            for m in imported_modules(path, modules[path])
        )
    ]
    assert unused == []


def test_the_orchestrator_rule_catches_violations() -> None:
    synthetic = {
        "disks/service.py": "from ..orchestrator import Orchestrator\n",
        "proxy/app.py": "from ..orchestrator.docker import DockerOrchestrator\n",
        "jobs/views.py": "import neuro_platform.orchestrator\n",
        "jobs/scheduler.py": "from ..orchestrator import Orchestrator\n",  # allowed
        "orchestrator/docker.py": "from .base import Orchestrator\n",  # its own package
    }
    assert orchestrator_violations(synthetic) == [
        "disks/service.py imports neuro_platform.orchestrator",
        "disks/service.py imports neuro_platform.orchestrator.Orchestrator",
        "proxy/app.py imports neuro_platform.orchestrator.docker",
        "proxy/app.py imports neuro_platform.orchestrator.docker.DockerOrchestrator",
        "jobs/views.py imports neuro_platform.orchestrator",
    ]


def test_relative_imports_resolve_from_the_module_s_package() -> None:
    assert set(imported_modules("jobs/handlers.py", "from .queries import JobQuery\n")) == {
        "neuro_platform.jobs.queries",
        "neuro_platform.jobs.queries.JobQuery",
    }
    assert "neuro_platform.jobs" in set(
        imported_modules("jobs/__init__.py", "from . import handlers\n")
    )
    assert "neuro_platform.errors" in set(
        imported_modules("disks/errors.py", "from ..errors import NotFoundError\n")
    )
