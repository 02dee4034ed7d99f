"""Plugins register user-config parameters through the ``neuro_api`` entry-point group."""

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ._errors import ConfigError

ENTRY_POINT_GROUP = "neuro_api"


@dataclass(frozen=True)
class _ParamType:
    """The TOML value type a parameter accepts."""

    item_type: type
    is_list: bool

    def accepts(self, value: object) -> bool:
        if self.is_list:
            return isinstance(value, list) and all(self._accepts_item(item) for item in value)
        return self._accepts_item(value)

    def _accepts_item(self, value: object) -> bool:
        # bool is an int in Python but never a valid int or float setting.
        if isinstance(value, bool):
            return self.item_type is bool
        if self.item_type is float:
            return isinstance(value, int | float)
        return isinstance(value, self.item_type)

    def describe(self) -> str:
        name = self.item_type.__name__
        return f"list of {name}" if self.is_list else name


class ConfigScope(enum.Flag):
    """Which user-config files may set a parameter: the global ``~/.neuro/user.toml``,
    a project's ``.neuro.toml``, or both."""

    GLOBAL = enum.auto()
    LOCAL = enum.auto()
    ALL = GLOBAL | LOCAL


class ConfigBuilder:
    """Defines the user-config parameters (section, name, type, scope) that are allowed."""

    def __init__(self) -> None:
        self._params: dict[str, dict[str, _ParamType]] = {}
        self._scopes: dict[tuple[str, str], ConfigScope] = {}

    @property
    def params(self) -> Mapping[str, Mapping[str, _ParamType]]:
        return self._params

    def scope(self, section: str, name: str) -> ConfigScope:
        """The files a defined parameter may appear in."""
        return self._scopes.get((section, name), ConfigScope.ALL)

    def _define(self, section: str, name: str, param_type: _ParamType, scope: ConfigScope) -> None:
        section_params = self._params.setdefault(section, {})
        known = section_params.get(name)
        if known is not None and known != param_type:
            raise ConfigError(
                f"Config parameter {section}.{name} is already defined as {known.describe()}"
            )
        section_params[name] = param_type
        self._scopes[(section, name)] = scope

    def define_int(self, section: str, name: str, *, scope: ConfigScope = ConfigScope.ALL) -> None:
        self._define(section, name, _ParamType(int, is_list=False), scope)

    def define_bool(self, section: str, name: str, *, scope: ConfigScope = ConfigScope.ALL) -> None:
        self._define(section, name, _ParamType(bool, is_list=False), scope)

    def define_float(
        self, section: str, name: str, *, scope: ConfigScope = ConfigScope.ALL
    ) -> None:
        self._define(section, name, _ParamType(float, is_list=False), scope)

    def define_str(self, section: str, name: str, *, scope: ConfigScope = ConfigScope.ALL) -> None:
        self._define(section, name, _ParamType(str, is_list=False), scope)

    def define_int_list(
        self, section: str, name: str, *, scope: ConfigScope = ConfigScope.ALL
    ) -> None:
        self._define(section, name, _ParamType(int, is_list=True), scope)

    def define_bool_list(
        self, section: str, name: str, *, scope: ConfigScope = ConfigScope.ALL
    ) -> None:
        self._define(section, name, _ParamType(bool, is_list=True), scope)

    def define_str_list(
        self, section: str, name: str, *, scope: ConfigScope = ConfigScope.ALL
    ) -> None:
        self._define(section, name, _ParamType(str, is_list=True), scope)

    def define_float_list(
        self, section: str, name: str, *, scope: ConfigScope = ConfigScope.ALL
    ) -> None:
        self._define(section, name, _ParamType(float, is_list=True), scope)


@dataclass(frozen=True)
class _VersionSpec:
    update_text: Callable[[str, str], str]
    exclusive: bool
    delay: int


class VersionChecker:
    """Where plugins register the packages whose updates the CLI may announce.

    ``update_text(current, newest)`` is the message to print. A self-hosted platform has no
    package index to ask, so nothing is ever announced (``Client.version_checker``).
    """

    def __init__(self) -> None:
        self._records: dict[str, _VersionSpec] = {}

    def register(
        self,
        package: str,
        update_text: Callable[[str, str], str],
        *,
        exclusive: bool = False,
        delay: int = 0,
    ) -> None:
        self._records[package] = _VersionSpec(update_text, exclusive, delay)


class PluginManager:
    """Handed to every ``neuro_api`` entry point so plugins can register features."""

    def __init__(self) -> None:
        self._config = ConfigBuilder()
        self._version_checker = VersionChecker()

    @property
    def config(self) -> ConfigBuilder:
        return self._config

    @property
    def version_checker(self) -> VersionChecker:
        return self._version_checker


def _define_builtin_params(builder: ConfigBuilder) -> None:
    # The documented sections (the ``alias`` section is free-form and checked separately).
    builder.define_str("job", "ps-format")
    builder.define_str("job", "top-format")
    builder.define_str("job", "life-span")
    # A project picks its cluster and org; the global choice is `neuro config switch-*`'s.
    builder.define_str("job", "cluster-name", scope=ConfigScope.LOCAL)
    builder.define_str("job", "org-name", scope=ConfigScope.LOCAL)
    builder.define_str_list("storage", "cp-exclude")
    builder.define_str_list("storage", "cp-exclude-from-files")


def load_plugins() -> PluginManager:
    """A manager with the built-in parameters and those of every installed plugin."""
    # Imported here: importlib.metadata alone takes a few milliseconds to import, and only
    # a user config file to check needs the plugins (load_user_config).
    from importlib.metadata import entry_points

    manager = PluginManager()
    _define_builtin_params(manager.config)
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        plugin = entry_point.load()
        plugin(manager)
    return manager
