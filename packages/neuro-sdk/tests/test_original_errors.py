"""Same errors for the same mistakes: what the original SDK (22.6.3) rejects, ours rejects with
its exception type and message (docs/compatibility.md, "SDK").

Every expectation below was produced by running the original package in a throwaway venv
(``pip install neuro-sdk==22.6.3``) on the same input and configuration (user ``alice``,
cluster ``default``, no org) and is recorded here literally. Where ours is stricter than
the original (it refuses some definitions the original accepts and the server would refuse
later), the last tests pin that too.
"""

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from neuro_sdk import ConfigError, Factory, Parser, TagOption
from neuro_sdk._config import Config
from neuro_sdk._config_db import db_path
from neuro_sdk._core import _Core

from .conftest import MakeConfigData

BAD_NAME = (
    "invalid image name. Docker specifies it to be the following:\n"
    "Name components may contain lowercase letters, digits and separators. "
    "A separator is defined as a period, one or two underscores, or one or more dashes. "
    "A name component may not start or end with a separator."
)


@pytest.fixture
async def p(make_config_data: MakeConfigData, tmp_path: Path) -> AsyncIterator[Parser]:
    async with aiohttp.ClientSession() as session:
        yield Parser(Config(_Core(session), tmp_path, make_config_data(), {}))


ORIGINAL_ERRORS = [
    pytest.param(
        lambda p: p.volume("storage:dir"),
        ValueError,
        "Invalid volume specification 'storage:dir'",
        id="p.volume('storage:dir')",
    ),
    pytest.param(
        lambda p: p.volume("storage:dir:/mnt:write"),
        ValueError,
        "Wrong ReadWrite/ReadOnly mode spec for 'storage:dir:/mnt:write'",
        id="p.volume('storage:dir:/mnt:write')",
    ),
    pytest.param(
        lambda p: p.volume("storage:dir:/mnt:ro:x"),
        ValueError,
        "Invalid volume specification 'storage:dir:/mnt:ro:x'",
        id="p.volume('storage:dir:/mnt:ro:x')",
    ),
    pytest.param(
        lambda p: p.volume("storage:a:b:c:d:e"),
        ValueError,
        "Invalid volume specification 'storage:a:b:c:d:e'",
        id="p.volume('storage:a:b:c:d:e')",
    ),
    pytest.param(
        lambda p: p.volume("dir:/mnt"),
        ValueError,
        "Invalid volume specification 'dir:/mnt'",
        id="p.volume('dir:/mnt')",
    ),
    pytest.param(
        lambda p: p.volume("http://x/y:/mnt"),
        ValueError,
        "Invalid scheme 'http:' (only 'storage:' is allowed)",
        id="p.volume('http://x/y:/mnt')",
    ),
    pytest.param(
        lambda p: p.volume("image:x:/mnt"),
        ValueError,
        "Invalid scheme 'image:' (only 'storage:' is allowed)",
        id="p.volume('image:x:/mnt')",
    ),
    pytest.param(
        lambda p: p.volume("/local/dir:/mnt"),
        ValueError,
        "Invalid volume specification '/local/dir:/mnt'",
        id="p.volume('/local/dir:/mnt')",
    ),
    pytest.param(
        lambda p: p.volume(":/mnt"),
        ValueError,
        "Invalid volume specification ':/mnt'",
        id="p.volume(':/mnt')",
    ),
    pytest.param(
        lambda p: p.volume("HOME"),
        ValueError,
        "Invalid volume specification 'HOME'",
        id="p.volume('HOME')",
    ),
    pytest.param(
        lambda p: p.volumes(["secret:key"]),
        ValueError,
        "Invalid secret file specification 'secret:key'",
        id="p.volumes(['secret:key'])",
    ),
    pytest.param(
        lambda p: p.volumes(["secret:key:/mnt:ro"]),
        ValueError,
        "Invalid secret file specification 'secret:key:/mnt:ro'",
        id="p.volumes(['secret:key:/mnt:ro'])",
    ),
    pytest.param(
        lambda p: p.volumes(["secret:key:/a:/b"]),
        ValueError,
        "Invalid secret file specification 'secret:key:/a:/b'",
        id="p.volumes(['secret:key:/a:/b'])",
    ),
    pytest.param(
        lambda p: p.volumes(["disk:d"]),
        ValueError,
        "Invalid disk volume specification 'disk:d'",
        id="p.volumes(['disk:d'])",
    ),
    pytest.param(
        lambda p: p.volumes(["disk:d:/mnt:write"]),
        ValueError,
        "Wrong ReadWrite/ReadOnly mode spec for 'disk:d:/mnt:write'",
        id="p.volumes(['disk:d:/mnt:write'])",
    ),
    pytest.param(
        lambda p: p.volumes(["disk:d:/mnt:ro:x"]),
        ValueError,
        "Invalid disk volume specification 'disk:d:/mnt:ro:x'",
        id="p.volumes(['disk:d:/mnt:ro:x'])",
    ),
    pytest.param(
        lambda p: p.str_to_uri(""),
        ValueError,
        "URI Scheme not specified. Please specify one of .",
        id="p.str_to_uri('')",
    ),
    pytest.param(
        lambda p: p.str_to_uri("ftp://host/path"),
        ValueError,
        "Port is not allowed in ftp URI",
        id="p.str_to_uri('ftp://host/path')",
    ),
    pytest.param(
        lambda p: p.str_to_uri("http://example.com"),
        ValueError,
        "Port is not allowed in http URI",
        id="p.str_to_uri('http://example.com')",
    ),
    pytest.param(
        lambda p: p.str_to_uri("secret:x", allowed_schemes=("storage",)),
        ValueError,
        "Invalid scheme 'secret:' (only 'storage:' is allowed)",
        id="p.str_to_uri('secret:x', allowed_schemes=('storage',))",
    ),
    pytest.param(
        lambda p: p.str_to_uri("http://x/y", allowed_schemes=("storage",)),
        ValueError,
        "Invalid scheme 'http:' (only 'storage:' is allowed)",
        id="p.str_to_uri('http://x/y', allowed_schemes=('storage',))",
    ),
    pytest.param(
        lambda p: p.str_to_uri("storage:x?q=1", allowed_schemes=("storage",)),
        ValueError,
        "Query part is not allowed in storage URI. Use '%3F' to quote '?' in path.",
        id="p.str_to_uri('storage:x?q=1', allowed_schemes=('storage',))",
    ),
    pytest.param(
        lambda p: p.str_to_uri("storage:x#f", allowed_schemes=("storage",)),
        ValueError,
        "Fragment part is not allowed in storage URI. Use '%23' to quote '#' in path.",
        id="p.str_to_uri('storage:x#f', allowed_schemes=('storage',))",
    ),
    pytest.param(
        lambda p: p.str_to_uri("storage://user:pass@cl/x", allowed_schemes=("storage",)),
        ValueError,
        "User is not allowed in storage URI.",
        id="p.str_to_uri('storage://user:pass@cl/x', allowed_schemes=('storage',))",
    ),
    pytest.param(
        lambda p: p.str_to_uri("storage://cl:80/x", allowed_schemes=("storage",)),
        ValueError,
        "Port is not allowed in storage URI",
        id="p.str_to_uri('storage://cl:80/x', allowed_schemes=('storage',))",
    ),
    pytest.param(
        lambda p: p.str_to_uri("image:x", allowed_schemes=("storage",)),
        ValueError,
        "Invalid scheme 'image:' (only 'storage:' is allowed)",
        id="p.str_to_uri('image:x', allowed_schemes=('storage',))",
    ),
    pytest.param(
        lambda p: p.str_to_uri("file:///x", allowed_schemes=("storage",)),
        ValueError,
        "Invalid scheme 'file:' (only 'storage:' is allowed)",
        id="p.str_to_uri('file:///x', allowed_schemes=('storage',))",
    ),
    pytest.param(
        lambda p: p.local_image(""),
        ValueError,
        "Invalid local image '': empty image name",
        id="p.local_image('')",
    ),
    pytest.param(
        lambda p: p.local_image("image:foo"),
        ValueError,
        "Invalid local image 'image:foo': scheme 'image://' is not allowed for local images",
        id="p.local_image('image:foo')",
    ),
    pytest.param(
        lambda p: p.local_image("foo:"),
        ValueError,
        "Invalid local image 'foo:': empty name or empty tag",
        id="p.local_image('foo:')",
    ),
    pytest.param(
        lambda p: p.local_image(":tag"),
        ValueError,
        "Invalid local image ':tag': empty name or empty tag",
        id="p.local_image(':tag')",
    ),
    pytest.param(
        lambda p: p.local_image("foo:bar:baz"),
        ValueError,
        "Invalid local image 'foo:bar:baz': too many tags",
        id="p.local_image('foo:bar:baz')",
    ),
    pytest.param(
        lambda p: p.local_image("UPPER"),
        ValueError,
        f"Invalid local image 'UPPER': {BAD_NAME}",
        id="p.local_image('UPPER')",
    ),
    pytest.param(
        lambda p: p.local_image("foo@sha256:abc"),
        ValueError,
        f"Invalid local image 'foo@sha256:abc': {BAD_NAME}",
        id="p.local_image('foo@sha256:abc')",
    ),
    pytest.param(
        lambda p: p.local_image("https://x/y"),
        ValueError,
        f"Invalid local image 'https://x/y': {BAD_NAME}",
        id="p.local_image('https://x/y')",
    ),
    pytest.param(
        lambda p: p.remote_image(""),
        ValueError,
        "Invalid local image '': empty image name",
        id="p.remote_image('')",
    ),
    pytest.param(
        lambda p: p.remote_image("image:"),
        ValueError,
        "Invalid remote image 'image:': no image name specified",
        id="p.remote_image('image:')",
    ),
    pytest.param(
        lambda p: p.remote_image("image://"),
        ValueError,
        "Invalid remote image 'image://': no image name specified",
        id="p.remote_image('image://')",
    ),
    pytest.param(
        lambda p: p.remote_image("image:foo:"),
        ValueError,
        "Invalid remote image 'image:foo:': empty name or empty tag",
        id="p.remote_image('image:foo:')",
    ),
    pytest.param(
        lambda p: p.remote_image("foo:bar:baz"),
        ValueError,
        "Invalid local image 'foo:bar:baz': too many tags",
        id="p.remote_image('foo:bar:baz')",
    ),
    pytest.param(
        lambda p: p.remote_image("image:foo:bar:baz"),
        ValueError,
        "Invalid remote image 'image:foo:bar:baz': too many tags",
        id="p.remote_image('image:foo:bar:baz')",
    ),
    pytest.param(
        lambda p: p.remote_image("image://other/alice/x"),
        RuntimeError,
        "Cluster other doesn't exist in a list of available clusters ['default']. "
        "Please logout and login again.",
        id="p.remote_image('image://other/alice/x')",
    ),
    pytest.param(
        lambda p: p.remote_image("image:///x"),
        ValueError,
        "Invalid remote image 'image:///x': no image name specified",
        id="p.remote_image('image:///x')",
    ),
    pytest.param(
        lambda p: p.remote_image("http://x/y"),
        ValueError,
        f"Invalid local image 'http://x/y': {BAD_NAME}",
        id="p.remote_image('http://x/y')",
    ),
    pytest.param(
        lambda p: p.remote_image("image:foo@sha256:abc"),
        ValueError,
        f"Invalid remote image 'image:foo@sha256:abc': {BAD_NAME}",
        id="p.remote_image('image:foo@sha256:abc')",
    ),
    pytest.param(
        lambda p: p.remote_image("UPPER"),
        ValueError,
        f"Invalid local image 'UPPER': {BAD_NAME}",
        id="p.remote_image('UPPER')",
    ),
    pytest.param(
        lambda p: p.uri_to_path(URL("storage:x")),
        ValueError,
        "Invalid scheme 'storage:' (only 'file:' is allowed)",
        id="p.uri_to_path(URL('storage:x'))",
    ),
    pytest.param(
        lambda p: p.normalize_uri(URL("just/a/path")),
        ValueError,
        "Absolute URI is required for scheme ",
        id="p.normalize_uri(URL('just/a/path'))",
    ),
    pytest.param(
        lambda p: p.normalize_uri(URL("file:///x"), allowed_schemes=("storage",)),
        ValueError,
        "Invalid scheme 'file:' (only 'storage:' is allowed)",
        id="p.normalize_uri(URL('file:///x'), allowed_schemes=('storage',))",
    ),
    pytest.param(
        lambda p: p.normalize_uri(URL("file:///x"), allowed_schemes=("storage", "image")),
        ValueError,
        "Invalid scheme 'file:' (only 'storage:', 'image:' are allowed)",
        id="p.normalize_uri(URL('file:///x'), allowed_schemes=('storage', 'image'))",
    ),
    pytest.param(
        lambda p: p.normalize_uri(URL("disk:d?x=1")),
        ValueError,
        "Query part is not allowed in disk URI. Use '%3F' to quote '?' in path.",
        id="p.normalize_uri(URL('disk:d?x=1'))",
    ),
    pytest.param(
        lambda p: p.normalize_uri(URL("storage://u:p@c/x")),
        ValueError,
        "User is not allowed in storage URI.",
        id="p.normalize_uri(URL('storage://u:p@c/x'))",
    ),
    pytest.param(
        lambda p: p.normalize_uri(URL("https://host/x")),
        ValueError,
        "Port is not allowed in https URI",
        id="p.normalize_uri(URL('https://host/x'))",
    ),
    pytest.param(
        lambda p: p.volumes(["HOME"]),
        ValueError,
        "--volume=HOME no longer supported",
        id="p.volumes(['HOME'])",
    ),
    pytest.param(
        lambda p: p.volumes(["ALL"]),
        ValueError,
        "--volume=ALL no longer supported",
        id="p.volumes(['ALL'])",
    ),
    pytest.param(
        lambda p: p.volumes(["secret:k:/a:ro"]),
        ValueError,
        "Invalid secret file specification 'secret:k:/a:ro'",
        id="p.volumes(['secret:k:/a:ro'])",
    ),
    pytest.param(
        lambda p: p.volumes(["storage:a:b:/mnt"]),
        ValueError,
        "Wrong ReadWrite/ReadOnly mode spec for 'storage:a:b:/mnt'",
        id="p.volumes(['storage:a:b:/mnt'])",
    ),
    pytest.param(
        lambda p: p.volumes(["disk:d:/mnt:bad"]),
        ValueError,
        "Wrong ReadWrite/ReadOnly mode spec for 'disk:d:/mnt:bad'",
        id="p.volumes(['disk:d:/mnt:bad'])",
    ),
    pytest.param(
        lambda p: p.str_to_uri("", allowed_schemes=("storage", "image")),
        ValueError,
        "URI Scheme not specified. Please specify one of storage, image.",
        id="p.str_to_uri('', allowed_schemes=('storage', 'image'))",
    ),
    pytest.param(
        lambda p: p.str_to_uri("storage:x", allowed_schemes=("image", "job")),
        ValueError,
        "Invalid scheme 'storage:' (only 'image:', 'job:' are allowed)",
        id="p.str_to_uri('storage:x', allowed_schemes=('image', 'job'))",
    ),
    pytest.param(
        lambda p: p.str_to_uri("storage://u@c/x"),
        ValueError,
        "User is not allowed in storage URI.",
        id="p.str_to_uri('storage://u@c/x')",
    ),
    pytest.param(
        lambda p: p.str_to_uri("storage://:pw@c/x"),
        ValueError,
        "Password is not allowed in storage URI",
        id="p.str_to_uri('storage://:pw@c/x')",
    ),
    pytest.param(
        lambda p: p.str_to_uri("https://example.com/x"),
        ValueError,
        "Port is not allowed in https URI",
        id="p.str_to_uri('https://example.com/x')",
    ),
    pytest.param(
        lambda p: p.str_to_uri("storage:x?"),
        ValueError,
        "Query part is not allowed in storage URI. Use '%3F' to quote '?' in path.",
        id="p.str_to_uri('storage:x?')",
    ),
    pytest.param(
        lambda p: p.str_to_uri("storage:x#"),
        ValueError,
        "Fragment part is not allowed in storage URI. Use '%23' to quote '#' in path.",
        id="p.str_to_uri('storage:x#')",
    ),
    pytest.param(
        lambda p: p.str_to_uri("storage:x?a#b"),
        ValueError,
        "Fragment part is not allowed in storage URI. Use '%23' to quote '#' in path.",
        id="p.str_to_uri('storage:x?a#b')",
    ),
    pytest.param(
        lambda p: p.str_to_uri("mailto:x"),
        ValueError,
        "Absolute URI is required for scheme mailto",
        id="p.str_to_uri('mailto:x')",
    ),
    pytest.param(
        lambda p: p.envs(["A=secret:k?x"]),
        ValueError,
        "Query part is not allowed in secret URI. Use '%3F' to quote '?' in path.",
        id="p.envs(['A=secret:k?x'])",
    ),
    pytest.param(
        lambda p: p.envs(["A=secret://c:1/k"]),
        ValueError,
        "Port is not allowed in secret URI",
        id="p.envs(['A=secret://c:1/k'])",
    ),
    pytest.param(
        lambda p: p.volume("storage:x?q:/mnt"),
        ValueError,
        "Query part is not allowed in storage URI. Use '%3F' to quote '?' in path.",
        id="p.volume('storage:x?q:/mnt')",
    ),
    pytest.param(
        lambda p: p.volume("storage://c:80/x:/mnt"),
        ValueError,
        "Wrong ReadWrite/ReadOnly mode spec for 'storage://c:80/x:/mnt'",
        id="p.volume('storage://c:80/x:/mnt')",
    ),
    pytest.param(
        lambda p: p.remote_image("image:x:1", tag_option=TagOption.DENY),
        ValueError,
        "Invalid remote image 'image:x:1': tag is not allowed",
        id="p.remote_image('image:x:1', tag_option=TagOption.DENY)",
    ),
    pytest.param(
        lambda p: p.remote_image("image:x?y"),
        ValueError,
        "Invalid remote image 'image:x?y': Query part is not allowed in image URI. "
        "Use '%3F' to quote '?' in path.",
        id="p.remote_image('image:x?y')",
    ),
    pytest.param(
        lambda p: p.remote_image("image:x#y"),
        ValueError,
        "Invalid remote image 'image:x#y': Fragment part is not allowed in image URI. "
        "Use '%23' to quote '#' in path.",
        id="p.remote_image('image:x#y')",
    ),
    pytest.param(
        lambda p: p.remote_image("-x"),
        ValueError,
        "Invalid local image '-x': image cannot start with dash",
        id="p.remote_image('-x')",
    ),
    pytest.param(
        lambda p: p.local_image("image:latest"),
        ValueError,
        "Invalid local image 'image:latest': "
        "ambiguous value: valid as both local and remote image name",
        id="p.local_image('image:latest')",
    ),
    pytest.param(
        lambda p: p.remote_image("image:/alice"),
        ValueError,
        "Invalid remote image 'image:/alice': no image name specified",
        id="p.remote_image('image:/alice')",
    ),
    pytest.param(
        lambda p: p.remote_image("registry-default.local:5000/alice"),
        ValueError,
        "Invalid remote image 'registry-default.local:5000/alice': no image name specified",
        id="p.remote_image('registry-default.local:5000/alice')",
    ),
]


@pytest.mark.parametrize(("call", "exc_type", "message"), ORIGINAL_ERRORS)
def test_the_originals_error_for_the_same_mistake(
    p: Parser, call: Callable[[Parser], Any], exc_type: type[Exception], message: str
) -> None:
    with pytest.raises(exc_type, match=f"^{re.escape(message)}$"):
        call(p)


def test_an_unknown_cluster_is_still_a_value_error_for_the_cli(p: Parser) -> None:
    # The original raises RuntimeError; ours is that and a ValueError, the kind of error
    # the CLI reports in one line.
    with pytest.raises(ValueError, match="Cluster other doesn't exist"):
        p.remote_image("image://other/alice/x")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # The original accepts these and the server refuses them later (or mounts the
        # user's whole home); ours says what is wrong before anything is sent.
        (lambda p: p.volume("storage:dir:mnt"), "the container path must be absolute"),
        (lambda p: p.volume("storage:dir:"), "the container path must be absolute"),
        (lambda p: p.volumes(["secret::/mnt"]), "the secret key is missing"),
        (lambda p: p.volumes(["disk::/mnt"]), "the disk id or name is missing"),
        (lambda p: p.envs(["=value"]), "Invalid environment variable definition"),
        (lambda p: p.envs(["A=secret:"]), "the secret key is missing"),
        (lambda p: p.str_to_uri("storage:a%2F..%2Fbob"), "an encoded '/' or a NUL"),
    ],
)
def test_stricter_than_the_original(p: Parser, call: Callable[[Parser], Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call(p)


def test_valid_definitions_still_parse(p: Parser) -> None:
    volume = p.volume("storage://default/alice/dir:/mnt:ro")
    assert (volume.storage_uri, volume.container_path, volume.read_only) == (
        URL("storage://default/alice/dir"),
        "/mnt",
        True,
    )
    assert p.volumes(["disk:d:/mnt:rw"]).disk_volumes[0].read_only is False
    assert p.remote_image("image:x:1", tag_option=TagOption.ALLOW).tag == "1"


# -- Config files --------------------------------------------------------------------------


async def _get_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        await Factory(path).get()
    return str(info.value)


async def test_config_problems_say_what_the_original_says(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert await _get_error(missing) == f"Config at {missing} does not exists. Please login."
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    assert await _get_error(a_file) == (
        f"Config at {a_file} is not a directory. Please logout and login again."
    )
    no_db = tmp_path / "no-db"
    no_db.mkdir()
    assert await _get_error(no_db) == (
        f"Config {db_path(no_db)} is not a regular file. Please logout and login again."
    )
    db_is_a_dir = tmp_path / "db-is-a-dir"
    db_path(db_is_a_dir).mkdir(parents=True)
    assert await _get_error(db_is_a_dir) == (
        f"Config {db_path(db_is_a_dir)} is not a regular file. Please logout and login again."
    )
