"""user.toml + .neuro.toml: merge, validation, plugin-defined keys, project root."""

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuro_sdk import ConfigError, find_project_root
from neuro_sdk._plugins import ConfigBuilder, PluginManager, load_plugins
from neuro_sdk._user_config import load_user_config


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def load(config_dir: Path) -> dict[str, object]:
    return load_user_config(config_dir, lambda: load_plugins().config)


def test_local_file_wins_and_sections_merge(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        config_dir / "user.toml",
        """
        [job]
        ps-format = "{id}"
        life-span = "1d"
        [storage]
        cp-exclude = ["*.tmp"]
        [alias.lsl]
        cmd = "ls -l"
        """,
    )
    project = Path.cwd()
    write(
        project / ".neuro.toml",
        """
        [job]
        life-span = "2h"
        cluster-name = "gpu"
        [alias.ll]
        cmd = "ls -la"
        """,
    )
    (project / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(project / "deep" / "er")
    assert load(config_dir) == {
        "job": {"ps-format": "{id}", "life-span": "2h", "cluster-name": "gpu"},
        "storage": {"cp-exclude": ["*.tmp"]},
        "alias": {"lsl": {"cmd": "ls -l"}, "ll": {"cmd": "ls -la"}},
    }


def test_no_files_give_an_empty_config(config_dir: Path) -> None:
    assert load(config_dir) == {}


def test_the_plugins_are_scanned_only_for_a_file_and_once(config_dir: Path) -> None:
    # Scanning them costs every command's start-up a few milliseconds (importlib.metadata).
    calls: list[None] = []

    def params() -> ConfigBuilder:
        calls.append(None)
        return load_plugins().config

    assert load_user_config(config_dir, params) == {}
    assert calls == []
    write(config_dir / "user.toml", "[job]\nps-format = '{id}'\n")
    write(Path(".neuro.toml"), "[job]\nlife-span = '1d'\n")
    assert load_user_config(config_dir, params) == {"job": {"ps-format": "{id}", "life-span": "1d"}}
    assert calls == [None]


def test_unknown_key_names_file_and_key(config_dir: Path) -> None:
    file = write(config_dir / "user.toml", "[job]\nps-formt = '{id}'\n")
    with pytest.raises(ConfigError, match=rf"{file}: unknown parameter 'job.ps-formt'"):
        load(config_dir)


def test_unknown_section_names_file_and_section(config_dir: Path) -> None:
    file = write(Path.cwd() / ".neuro.toml", "[jobs]\nps-format = '{id}'\n")
    with pytest.raises(ConfigError, match=rf"{file}: unknown section 'jobs'"):
        load(config_dir)


def test_wrong_value_type_is_refused(config_dir: Path) -> None:
    file = write(config_dir / "user.toml", "[storage]\ncp-exclude = '*.tmp'\n")
    with pytest.raises(ConfigError, match=rf"{file}: 'storage.cp-exclude' expects list of str"):
        load(config_dir)


def test_malformed_toml_is_a_config_error(config_dir: Path) -> None:
    file = write(config_dir / "user.toml", "[job\nps-format = \n")
    with pytest.raises(ConfigError, match=rf"{file}: malformed TOML"):
        load(config_dir)


def test_cluster_name_is_refused_in_the_global_file(config_dir: Path) -> None:
    write(config_dir / "user.toml", "[job]\ncluster-name = 'gpu'\n")
    with pytest.raises(ConfigError, match=r"'job\.cluster-name' is allowed only in a project"):
        load(config_dir)


def test_find_project_root_walks_up(tmp_path: Path) -> None:
    write(tmp_path / "proj" / ".neuro.toml", "")
    nested = tmp_path / "proj" / "a" / "b"
    nested.mkdir(parents=True)
    assert find_project_root(nested) == (tmp_path / "proj").resolve()


def test_find_project_root_fails_at_filesystem_root(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Project root is not found"):
        find_project_root(tmp_path)


PLUGIN_SOURCE = """
def setup(manager):
    manager.config.define_int("plugin", "retries")
    manager.config.define_bool("plugin", "verbose")
    manager.config.define_float("plugin", "ratio")
    manager.config.define_str("plugin", "name")
    manager.config.define_int_list("plugin", "ports")
    manager.config.define_bool_list("plugin", "flags")
    manager.config.define_str_list("plugin", "tags")
    manager.config.define_float_list("plugin", "weights")
    manager.config.define_str("job", "extra-format")
"""


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real distribution with a ``neuro_api`` entry point, put on ``sys.path``."""
    site = tmp_path / "site"
    module = "neuro_test_plugin_ab12"
    write(site / f"{module}.py", PLUGIN_SOURCE)
    dist_info = site / "neuro_test_plugin-1.0.dist-info"
    write(dist_info / "METADATA", "Metadata-Version: 2.1\nName: neuro-test-plugin\nVersion: 1.0\n")
    write(dist_info / "entry_points.txt", f"[neuro_api]\ntest = {module}:setup\n")
    monkeypatch.syspath_prepend(str(site))
    yield module
    sys.modules.pop(module, None)


def test_plugin_keys_are_accepted_with_their_types(config_dir: Path, installed_plugin: str) -> None:
    write(
        config_dir / "user.toml",
        """
        [plugin]
        retries = 3
        verbose = true
        ratio = 0.5
        name = "x"
        ports = [80, 443]
        flags = [true, false]
        tags = ["a"]
        weights = [1.5, 2]
        [job]
        extra-format = "{name}"
        """,
    )
    config = load(config_dir)
    assert config["plugin"] == {
        "retries": 3,
        "verbose": True,
        "ratio": 0.5,
        "name": "x",
        "ports": [80, 443],
        "flags": [True, False],
        "tags": ["a"],
        "weights": [1.5, 2],
    }
    assert config["job"] == {"extra-format": "{name}"}


def test_plugin_key_type_is_enforced(config_dir: Path, installed_plugin: str) -> None:
    write(config_dir / "user.toml", "[plugin]\nretries = true\n")
    with pytest.raises(ConfigError, match=r"'plugin\.retries' expects int, got True"):
        load(config_dir)


def test_without_the_plugin_its_section_is_unknown(config_dir: Path) -> None:
    write(config_dir / "user.toml", "[plugin]\nretries = 3\n")
    with pytest.raises(ConfigError, match="unknown section 'plugin'"):
        load(config_dir)


def test_conflicting_redefinition_is_refused() -> None:
    manager = PluginManager()
    manager.config.define_str("job", "ps-format")
    manager.config.define_str("job", "ps-format")  # the same definition twice is fine
    with pytest.raises(ConfigError, match="already defined as str"):
        manager.config.define_int("job", "ps-format")
