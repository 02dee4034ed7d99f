"""Parser.remote_image / local_image / envs as the reference documents them."""

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from neuro_sdk import LocalImage, Parser, RemoteImage, TagOption
from neuro_sdk._config import Config
from neuro_sdk._core import _Core

from ..conftest import MakeConfigData

# make_cluster (tests/conftest.py) gives the cluster "default" this registry.
REGISTRY = "registry-default.local:5000"


@pytest.fixture
async def parser(make_config_data: MakeConfigData, tmp_path: Path) -> AsyncIterator[Parser]:
    data = make_config_data(org_name=None, clusters={"default": [None, "acme"], "second": [None]})
    async with aiohttp.ClientSession() as session:
        yield Parser(Config(_Core(session), tmp_path, data, {}))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # As the original: an external image without a tag gets "latest".
        ("ubuntu", RemoteImage.new_external_image("ubuntu", tag="latest")),
        ("ubuntu:latest", RemoteImage.new_external_image("ubuntu", tag="latest")),
        ("library/ubuntu:22.04", RemoteImage.new_external_image("library/ubuntu", tag="22.04")),
        (
            "ghcr.io/acme/tool:1.2",
            RemoteImage.new_external_image("acme/tool", "ghcr.io", tag="1.2"),
        ),
        (
            "localhost:5001/tool",
            RemoteImage.new_external_image("tool", "localhost:5001", tag="latest"),
        ),
    ],
)
async def test_docker_hub_and_other_registries(
    parser: Parser, text: str, expected: RemoteImage
) -> None:
    image = parser.remote_image(text)

    assert image == expected
    assert image.owner is None
    assert image.as_docker_url() == (text if ":" in text.rpartition("/")[2] else f"{text}:latest")


@pytest.mark.parametrize(
    ("text", "owner", "org", "name", "tag"),
    [
        ("image:my-image:v1", "alice", None, "my-image", "v1"),
        ("image:my-image", "alice", None, "my-image", None),
        ("image:project/my-image", "alice", None, "project/my-image", None),
        ("image:/bob/shared:2", "bob", None, "shared", "2"),
        ("image://default/bob/shared", "bob", None, "shared", None),
        ("image://default/acme/bob/shared:3", "bob", "acme", "shared", "3"),
        (f"{REGISTRY}/bob/shared:4", "bob", None, "shared", "4"),
        (f"{REGISTRY}/acme/bob/team/shared", "bob", "acme", "team/shared", None),
    ],
)
async def test_platform_registry_forms(
    parser: Parser, text: str, owner: str, org: str | None, name: str, tag: str | None
) -> None:
    # ALLOW takes the tag as written; DEFAULT fills in "latest" (test_tag_options).
    image = parser.remote_image(text, tag_option=TagOption.ALLOW)

    assert image == RemoteImage.new_neuro_image(
        name, REGISTRY, owner=owner, cluster_name="default", org_name=org, tag=tag
    )
    org_part = f"{org}/" if org else ""
    suffix = f":{tag}" if tag else ""
    assert image.as_docker_url() == f"{REGISTRY}/{org_part}{owner}/{name}{suffix}"
    assert str(image) == f"image://default/{org_part}{owner}/{name}{suffix}"


@pytest.mark.parametrize(
    ("text", "option", "tag"),
    [
        # The original 22.6.3's table: DEFAULT fills in "latest", ALLOW keeps a platform
        # image untagged, DENY refuses a tag; an external image always gets "latest".
        ("image:app", TagOption.DEFAULT, "latest"),
        ("image:app", TagOption.ALLOW, None),
        ("image:app", TagOption.DENY, None),
        ("image:app:v1", TagOption.DEFAULT, "v1"),
        ("image:app:v1", TagOption.ALLOW, "v1"),
        (f"{REGISTRY}/bob/app", TagOption.DEFAULT, "latest"),
        ("ubuntu", TagOption.DEFAULT, "latest"),
        ("ubuntu", TagOption.ALLOW, "latest"),
        ("ubuntu", TagOption.DENY, "latest"),
    ],
)
async def test_tag_options(parser: Parser, text: str, option: TagOption, tag: str | None) -> None:
    assert parser.remote_image(text, tag_option=option).tag == tag


async def test_deny_refuses_a_tag(parser: Parser) -> None:
    with pytest.raises(ValueError, match="tag is not allowed"):
        parser.remote_image("image:app:v1", tag_option=TagOption.DENY)


async def test_an_image_of_another_cluster_uses_its_registry(parser: Parser) -> None:
    image = parser.remote_image("image://second/alice/tool:1")

    assert image.registry == "registry-second.local:5000"
    assert image.cluster_name == "second"


@pytest.mark.parametrize(
    "text",
    ["", "UPPER", "image:", "image://nowhere/alice/x", "ubuntu:bad tag", "ubuntu@sha256:00"],
)
async def test_invalid_remote_images(parser: Parser, text: str) -> None:
    with pytest.raises(ValueError, match=r"mage|cluster|tag"):
        parser.remote_image(text)


async def test_local_image(parser: Parser) -> None:
    assert parser.local_image("ubuntu:latest") == LocalImage("ubuntu", "latest")
    assert parser.local_image("my/app") == LocalImage("my/app", "latest")  # as the original
    assert str(parser.local_image("my/app:2")) == "my/app:2"
    with pytest.raises(ValueError, match="image:"):
        parser.local_image("image:my-image")
    with pytest.raises(ValueError, match="Invalid"):
        parser.local_image("Bad Name")


async def test_envs_from_arguments_files_and_this_process(
    parser: Parser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FROM_SHELL", "shell value")
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    env_file = tmp_path / "app.env"
    env_file.write_text(
        "\ufeff# a comment\n\nFILE_ONLY=1\nOVERRIDDEN=from file\n  SPACED=a=b\n",
        encoding="utf-8",
    )

    result = parser.envs(
        ["OVERRIDDEN=from argument", "FROM_SHELL", "NOT_SET_ANYWHERE", "TOKEN=secret:api-key"],
        [str(env_file)],
    )

    assert result.env == {
        "FILE_ONLY": "1",
        "OVERRIDDEN": "from argument",
        "SPACED": "a=b",
        "FROM_SHELL": "shell value",
        "NOT_SET_ANYWHERE": "",
    }
    assert result.secret_env == {"TOKEN": URL("secret://default/alice/api-key")}


async def test_envs_reject_a_definition_without_a_name(parser: Parser) -> None:
    with pytest.raises(ValueError, match="=oops"):
        parser.envs(["=oops"])
