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
    with pytest.raises(ValueError, match=r"Invalid scheme 'image:' \(only 'file:', 'storage:'"):
        parser.str_to_uri("image:x", allowed_schemes=("file", "storage"))
    with pytest.raises(ValueError, match="URI Scheme not specified"):
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
    with pytest.raises(ValueError, match="Absolute URI is required"):
        parser.normalize_uri(URL("just/a/path"))
    with pytest.raises(ValueError, match=r"\(only 'storage:' is allowed\)"):
        parser.normalize_uri(URL("file:///x"), allowed_schemes=("storage",))
    with pytest.raises(ValueError, match="only local files"):
        parser.normalize_uri(URL("file://remote-host/x"))


def test_paths_and_uris_round_trip(parser: Parser, tmp_path: Path) -> None:
    uri = parser.path_to_uri(tmp_path / "a" / ".." / "b.txt")
    assert uri == URL(f"file://{tmp_path}/b.txt")
    assert parser.uri_to_path(uri) == tmp_path / "b.txt"
    assert parser.uri_to_str(uri) == f"file://{tmp_path}/b.txt"
    with pytest.raises(ValueError, match=r"\(only 'file:' is allowed\)"):
        parser.uri_to_path(URL("storage://default/alice/x"))


# -- One set of rules for every scheme (the CLI uses these too) ---------------------------

OWNED_SCHEMES = ("storage", "secret", "disk", "image", "job", "blob", "flow")


@pytest.mark.parametrize("scheme", OWNED_SCHEMES)
def test_every_scheme_has_the_same_short_forms(parser: Parser, scheme: str) -> None:
    own = URL(f"{scheme}://default/alice/x")
    assert parser.str_to_uri(f"{scheme}:x") == own
    assert parser.str_to_uri(f"{scheme}:~/x") == own
    assert parser.str_to_uri(f"{scheme}:./y/../x") == own
    assert parser.str_to_uri(f"{scheme}:~") == URL(f"{scheme}://default/alice")
    assert parser.str_to_uri(f"{scheme}:/bob/x") == URL(f"{scheme}://default/bob/x")
    assert parser.str_to_uri(f"{scheme}://second/bob//x/") == URL(f"{scheme}://second/bob/x")
    assert parser.str_to_uri(f"{scheme}:x", short=True) == URL(f"{scheme}:x")
    assert parser.normalize_uri(own, short=True) == URL(f"{scheme}:x")


@pytest.mark.parametrize("scheme", OWNED_SCHEMES)
def test_every_scheme_has_the_same_org_forms(make_parser: MakeParser, scheme: str) -> None:
    parser = make_parser("acme")
    own = URL(f"{scheme}://default/acme/alice/x")
    assert parser.str_to_uri(f"{scheme}:x") == own
    assert parser.str_to_uri(f"{scheme}:~/x") == own
    assert parser.str_to_uri(f"{scheme}:~") == URL(f"{scheme}://default/acme/alice")
    assert parser.normalize_uri(own, short=True) == URL(f"{scheme}:x")
    # Outside the org, the absolute form is the cluster's root, as without an org.
    assert parser.str_to_uri(f"{scheme}:/bob/x") == URL(f"{scheme}://default/bob/x")


def test_secret_key_is_a_secret_uri_never_a_local_file(parser: Parser, tmp_path: Path) -> None:
    assert parser.str_to_uri("secret:k") == URL("secret://default/alice/k")
    # Where only files and storage make sense (`neuro cp`), it is refused, not made
    # `file:///<cwd>/secret:k`.
    with pytest.raises(ValueError, match="Invalid scheme 'secret:'"):
        parser.str_to_uri("secret:k", allowed_schemes=("file", "storage"))
    # A local file with such a name is written as a path.
    assert parser.str_to_uri(f"{tmp_path}/secret:k") == URL(f"file://{tmp_path}/secret:k")


def test_what_is_a_local_path(
    parser: Parser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert parser.str_to_uri("~/x") == URL(f"file://{tmp_path}/home/x")
    assert parser.str_to_uri("file:~/x") == URL(f"file://{tmp_path}/home/x")
    assert parser.str_to_uri("file:x/../y") == URL(f"file://{tmp_path}/y")
    assert parser.str_to_uri("./secret:k") == URL(f"file://{tmp_path}/secret:k")
    # Not RFC 3986 schemes: `_` is not allowed in one, and one letter is a Windows drive.
    assert parser.str_to_uri("my_file:x") == URL(f"file://{tmp_path}/my_file:x")
    assert parser.str_to_uri("C:x") == URL(f"file://{tmp_path}/C:x")
    # A literal `%2F` in a local path is a file name, kept as written.
    uri = parser.str_to_uri("a%2Fb")
    assert parser.uri_to_path(uri) == tmp_path / "a%2Fb"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ".." is resolved, never above the cluster's root.
        ("storage:../../../x", "storage://default/x"),
        ("secret:../../../etc/passwd", "secret://default/etc/passwd"),
        ("disk:~/../../..", "disk://default/"),
        ("storage:/../../x", "storage://default/x"),
        ("storage://second/alice/../../../x", "storage://second/x"),
        ("job:%2E%2E/%2E%2E/x", "job://default/x"),
    ],
)
def test_traversal_stays_inside_the_cluster(parser: Parser, text: str, expected: str) -> None:
    uri = parser.str_to_uri(text)
    assert uri == URL(expected)
    assert ".." not in uri.path.split("/")


@pytest.mark.parametrize(
    "text",
    [
        "storage:a%2F..%2F..%2Fbob",  # an encoded "/" would be cleaned as a separator
        "secret:a%2fb",
        "storage://default/alice%2F..%2Fbob/x",
        "file:/tmp/a%2Fb",
        "storage:a\0b",
        "storage:a%00b",
        "secret:k%00",
        "/tmp/a\0b",
        "storage:x?",
        "storage:x?y=1",
        "storage:x#",
        "secret:k#frag",
        "storage://u@default/alice/x",
        "storage://u:p@default/alice/x",
        "storage://default:8080/alice/x",
        "",
    ],
)
def test_hostile_uris_are_refused(parser: Parser, text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parser.str_to_uri(text)


def test_hostile_urls_are_refused_by_normalize_uri_too(parser: Parser) -> None:
    for uri in (URL("storage:a%2Fb"), URL("secret:k%00"), URL("disk:d?x=1")):
        with pytest.raises(ValueError, match=r"."):
            parser.normalize_uri(uri)
    with pytest.raises(ValueError, match="encoded '/'"):
        parser.uri_to_path(URL("file:///tmp/a%2Fb"))


def test_role_and_bare_long_forms_keep_their_shape(parser: Parser) -> None:
    assert parser.str_to_uri("role://alice/team") == URL("role://alice/team")
    assert parser.str_to_uri("role://alice") == URL("role://alice")


def test_volumes_and_envs_follow_the_same_rules(parser: Parser) -> None:
    result = parser.volumes(["secret:~/k:/k", "disk:../bob/d:/d", "storage:~/s:/s"])
    assert result.secret_files[0].secret_uri == URL("secret://default/alice/k")
    assert result.disk_volumes[0].disk_uri == URL("disk://default/bob/d")
    assert result.volumes[0].storage_uri == URL("storage://default/alice/s")
    envs = parser.envs(["A=secret:~/k", "B=secret:/bob/k"])
    assert envs.secret_env == {
        "A": URL("secret://default/alice/k"),
        "B": URL("secret://default/bob/k"),
    }
    with pytest.raises(ValueError, match=r"."):
        parser.envs(["A=secret:k%2F..%2Fx"])
    with pytest.raises(ValueError, match=r"."):
        parser.volumes(["secret:k%00:/k"])


def test_is_glob_pattern(parser: Parser) -> None:
    assert parser.is_glob_pattern(parser.str_to_uri("storage:data/*.csv"))
    assert parser.is_glob_pattern(parser.str_to_uri("storage:data/**/x"))
    assert parser.is_glob_pattern(parser.str_to_uri("storage:data/file[0-9]"))
    assert not parser.is_glob_pattern(parser.str_to_uri("storage:data/plain"))
    # Local paths are the shell's to expand.
    assert not parser.is_glob_pattern(parser.str_to_uri("/tmp/*.csv"))
