"""Parser.volume/volumes and the URI helpers, as the reference documents them."""

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from neuro_sdk import DiskVolume, Parser, SecretFile, Volume
from neuro_sdk._config import Config
from neuro_sdk._core import _Core

from .conftest import MakeConfigData

MakeParser = Callable[..., Parser]


@pytest.fixture
async def make_parser(
    make_config_data: MakeConfigData, tmp_path: Path
) -> AsyncIterator[MakeParser]:
    async with aiohttp.ClientSession() as session:

        def make(org_name: str | None = None) -> Parser:
            data = make_config_data(
                org_name=org_name, clusters={"default": [None, "acme"], "second": [None]}
            )
            return Parser(Config(_Core(session), tmp_path, data, {}))

        yield make


@pytest.fixture
def parser(make_parser: MakeParser) -> Parser:
    return make_parser()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("storage:data:/mnt/data", Volume(URL("storage://default/alice/data"), "/mnt/data")),
        (
            "storage:data:/mnt/data:ro",
            Volume(URL("storage://default/alice/data"), "/mnt/data", read_only=True),
        ),
        ("storage:data:/mnt:rw", Volume(URL("storage://default/alice/data"), "/mnt")),
        ("storage://second/bob/x:/x", Volume(URL("storage://second/bob/x"), "/x")),
        ("storage:/bob/shared:/s:ro", Volume(URL("storage://default/bob/shared"), "/s", True)),
    ],
)
def test_volume(parser: Parser, text: str, expected: Volume) -> None:
    assert parser.volume(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "storage:data",  # no container path
        "storage:data:relative/path",
        "storage:data:/mnt:maybe",
        ":/mnt",
        "secret:key:/mnt",  # not a storage URI
        "http://host/x:/mnt",
        "storage:data?x=1:/mnt",
    ],
)
def test_volume_refuses_malformed(parser: Parser, text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parser.volume(text)


def test_volumes_splits_storage_secrets_and_disks(parser: Parser) -> None:
    result = parser.volumes(
        [
            "storage:data:/data:ro",
            "secret:ssh-key:/root/.ssh/id_rsa",
            "disk:scratch:/scratch",
            "disk://default/bob/disk-123:/shared:ro",
        ]
    )
    assert result.volumes == [Volume(URL("storage://default/alice/data"), "/data", True)]
    assert result.secret_files == [
        SecretFile(URL("secret://default/alice/ssh-key"), "/root/.ssh/id_rsa")
    ]
    assert result.disk_volumes == [
        DiskVolume(URL("disk://default/alice/scratch"), "/scratch"),
        DiskVolume(URL("disk://default/bob/disk-123"), "/shared", read_only=True),
    ]


def test_volumes_in_an_org(make_parser: MakeParser) -> None:
    result = make_parser("acme").volumes(["secret:k:/k", "disk:d:/d", "storage:s:/s"])
    assert result.secret_files[0].secret_uri == URL("secret://default/acme/alice/k")
    assert result.disk_volumes[0].disk_uri == URL("disk://default/acme/alice/d")
    assert result.volumes[0].storage_uri == URL("storage://default/acme/alice/s")


@pytest.mark.parametrize(
    "text", ["secret::/path", "secret:key", "secret:key:path", "disk::/d", "disk:d:/d:bad"]
)
def test_volumes_refuse_malformed(parser: Parser, text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parser.volumes([text])


def test_str_to_uri_long_and_short(parser: Parser) -> None:
    assert parser.str_to_uri("storage:folder/file.txt") == URL(
        "storage://default/alice/folder/file.txt"
    )
    assert parser.str_to_uri("storage:folder", short=True) == URL("storage:folder")
    assert parser.str_to_uri("storage://default/alice/a/b", short=True) == URL("storage:a/b")
    assert parser.str_to_uri("storage://default/bob/a", short=True) == URL(
        "storage://default/bob/a"
    )
    assert parser.str_to_uri("storage:folder", cluster_name="second") == URL(
        "storage://second/alice/folder"
    )
    assert parser.str_to_uri("image:my-image") == URL("image://default/alice/my-image")
    assert parser.str_to_uri("/tmp/x/../y") == URL("file:///tmp/y")
    assert parser.str_to_uri("/tmp/y", short=True) == URL("file:///tmp/y")


def test_str_to_uri_relative_path_is_local(
    parser: Parser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert parser.str_to_uri("data/f.txt") == URL(f"file://{tmp_path}/data/f.txt")


def test_str_to_uri_allowed_schemes(parser: Parser) -> None:
    uri = parser.str_to_uri("storage:x", allowed_schemes=("file", "storage"))
    assert uri == URL("storage://default/alice/x")
    with pytest.raises(ValueError, match="Unsupported URI scheme 'image'"):
        parser.str_to_uri("image:x", allowed_schemes=("file", "storage"))
    with pytest.raises(ValueError, match="Empty URI"):
        parser.str_to_uri("")


def test_normalize_uri_with_org(make_parser: MakeParser) -> None:
    parser = make_parser("acme")
    assert parser.normalize_uri(URL("storage:data")) == URL("storage://default/acme/alice/data")
    assert parser.normalize_uri(URL("storage://default/acme/alice/data"), short=True) == URL(
        "storage:data"
    )
    # Another org's (or no org's) path stays long even in the short form.
    assert parser.normalize_uri(URL("storage://default/alice/data"), short=True) == URL(
        "storage://default/alice/data"
    )
    assert parser.normalize_uri(URL("secret:key"), cluster_name="second") == URL(
        "secret://second/acme/alice/key"
    )


def test_normalize_uri_refusals(parser: Parser) -> None:
    with pytest.raises(ValueError, match="no scheme"):
        parser.normalize_uri(URL("just/a/path"))
    with pytest.raises(ValueError, match="allowed are 'storage'"):
        parser.normalize_uri(URL("file:///x"), allowed_schemes=("storage",))
    with pytest.raises(ValueError, match="only local files"):
        parser.normalize_uri(URL("file://remote-host/x"))


def test_paths_and_uris_round_trip(parser: Parser, tmp_path: Path) -> None:
    uri = parser.path_to_uri(tmp_path / "a" / ".." / "b.txt")
    assert uri == URL(f"file://{tmp_path}/b.txt")
    assert parser.uri_to_path(uri) == tmp_path / "b.txt"
    assert parser.uri_to_str(uri) == f"file://{tmp_path}/b.txt"
    with pytest.raises(ValueError, match="must be 'file:'"):
        parser.uri_to_path(URL("storage://default/alice/x"))
