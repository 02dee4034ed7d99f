"""User settings: ``<config dir>/user.toml`` merged with the project's ``.neuro.toml``."""

# Annotations stay unevaluated: the plugins' module is imported only to check a file.
from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import ConfigError

if TYPE_CHECKING:
    from ._plugins import ConfigBuilder

GLOBAL_CONFIG_NAME = "user.toml"
LOCAL_CONFIG_NAME = ".neuro.toml"
ALIAS_SECTION = "alias"
# They select the cluster and org for one project, so they make no sense globally.
NO_ORG = "NO_ORG"


def find_project_root(path: Path | None = None) -> Path:
    """The nearest folder, from ``path`` (default: CWD) upwards, holding ``.neuro.toml``."""
    start = (path if path is not None else Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / LOCAL_CONFIG_NAME).is_file():
            return folder
    raise ConfigError(f"Project root is not found: no {LOCAL_CONFIG_NAME} in {start} or above")


def _read_toml(file: Path) -> dict[str, Any]:
    # Imported here: most commands run with no user config file to read.
    import tomllib

    try:
        with file.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: malformed TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from exc


def _validate(
    file: Path, content: Mapping[str, Any], builder: ConfigBuilder, *, local: bool
) -> None:
    from ._plugins import ConfigScope

    for section, values in content.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{file}: '{section}' must be a section")
        if section == ALIAS_SECTION:
            for alias, definition in values.items():
                if not isinstance(definition, dict):
                    raise ConfigError(f"{file}: alias.{alias} must be a table")
            continue
        known = builder.params.get(section)
        if known is None:
            raise ConfigError(f"{file}: unknown section '{section}'")
        for name, value in values.items():
            param_type = known.get(name)
            if param_type is None:
                raise ConfigError(f"{file}: unknown parameter '{section}.{name}'")
            if not local and not builder.scope(section, name) & ConfigScope.GLOBAL:
                raise ConfigError(
                    f"{file}: '{section}.{name}' is allowed only in a project's {LOCAL_CONFIG_NAME}"
                )
            if not param_type.accepts(value):
                raise ConfigError(
                    f"{file}: '{section}.{name}' expects {param_type.describe()}, got {value!r}"
                )


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge section by section; the override wins per key (per alias, for aliases)."""
    merged = {section: dict(values) for section, values in base.items()}
    for section, values in override.items():
        merged.setdefault(section, {}).update(values)
    return merged


def load_user_config(config_dir: Path, params: Callable[[], ConfigBuilder]) -> dict[str, Any]:
    """The merged user config. ``params`` gives the parameters a file may set; it is called
    only when there is a file: it scans the installed plugins (importlib.metadata's import
    and every installed distribution's metadata), which a command without one does not need."""
    files: list[tuple[Path, bool]] = []  # (file, whether it is the project's)
    global_file = config_dir / GLOBAL_CONFIG_NAME
    if global_file.is_file():
        files.append((global_file, False))
    with contextlib.suppress(ConfigError):  # no project
        files.append((find_project_root() / LOCAL_CONFIG_NAME, True))
    if not files:
        return {}
    builder = params()
    config: dict[str, Any] = {}
    for file, local in files:
        content = _read_toml(file)
        _validate(file, content, builder, local=local)
        config = _merge(config, content)
    return config


def local_selection(user_config: Mapping[str, Any]) -> tuple[str | None, str | None, bool]:
    """(cluster override, org override, whether the org is overridden) from ``[job]``."""
    job = user_config.get("job", {})
    org_name = job.get("org-name")
    org_overridden = org_name is not None
    if org_name == NO_ORG:
        org_name = None
    return job.get("cluster-name"), org_name, org_overridden
