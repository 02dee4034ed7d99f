"""What ``storage.list`` makes of each LISTSTATUS entry: the same ``FileStatus`` (its ``uri``
exactly ``directory / name``) for any name, whatever the chunks the answer arrives in, and
in-band errors raised where they stand in the stream.

The odd names run against our real server; the in-band error and the odd field values are
answers our server never sends on its own, so a tiny aiohttp server answers those, as in
``tests/test_core.py``.
"""

import dataclasses
import errno
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

import neuro_sdk
from neuro_platform.testing.server import PlatformServer
from neuro_sdk import Action, FileStatus
from neuro_sdk._config import Config
from neuro_sdk._core import _Core
from neuro_sdk._storage_entities import FileStatusType
from neuro_sdk._storage_remote import RemoteStorage
from neuro_sdk._uris import child_uris

from ..conftest import MakeConfigData

ODD_NAMES = [
    "a b",
    "100%",
    "%41",
    "%2F",
    "what?",
    "hash#tag",
    "ünïcode-名前",
    "emoji-😀",
    "...",
    ".hidden",
    "a+b=c;d@e:f,g!h$i&j'k(l)m*n~",
    "tab\there",
    "new\nline",
    'quote"s',
    "back\\slash",
    "[brackets]{braces}<angles>",
    "plain-name.txt",
]


@pytest.mark.parametrize(
    "parent",
    [
        URL("storage://default/alice/folder"),
        URL("storage://default/alice/folder/"),
        URL("storage://default"),
        URL("storage://default/"),
        URL("storage://default/alice/a%20b/%C3%BC"),
        URL("storage://default/alice/folder?query=1#fragment"),
        URL.build(scheme="storage", host="default", path="/alice/./x/../y", encoded=True),
        URL("storage:folder"),  # no host: yarl's `/` joins differently
    ],
)
def test_child_uris_are_what_slash_gives(parent: URL) -> None:
    names = [
        *ODD_NAMES,
        *(f"a{char}b" for char in map(chr, range(128))),
        *map(chr, range(128)),
        "",
        ".",
        "..",
        "../up",
        "down/..",
        "a/b",
        "\udcff",  # a name the server's filesystem did not decode (surrogateescape)
    ]
    child = child_uris(parent)
    for name in names:
        made, expected = joined(child, name), joined(parent.__truediv__, name)
        assert made == expected, name
        if isinstance(made, URL) and isinstance(expected, URL):
            assert str(made) == str(expected), name
            assert made.raw_path == expected.raw_path, name
            assert made.path == expected.path, name


def joined(join: Callable[[str], URL], name: str) -> URL | str:
    """The URI, or the message of the ValueError (a name starting with "/")."""
    try:
        return join(name)
    except ValueError as error:
        return f"ValueError: {error}"


async def test_odd_names_list_as_their_uris_and_stat_back(
    client: neuro_sdk.Client, storage_server: PlatformServer, remote_dir: URL
) -> None:
    await client.storage.mkdir(remote_dir, parents=True)
    local = storage_server.data_dir / "storage" / "default" / "alice" / remote_dir.path
    for name in ODD_NAMES:
        (local / name).write_text(name)
    directory = client.parse.str_to_uri(str(remote_dir))

    async with client.storage.list(remote_dir) as listed:
        statuses = {status.name: status async for status in listed}

    assert sorted(statuses) == sorted(ODD_NAMES)
    for name, status in statuses.items():
        assert status.path == name
        assert status.uri == directory / name
        assert status.size == len(name.encode())
        assert status.type is FileStatusType.FILE
        assert status.permission is Action.MANAGE
        # The URI names the very file: its stat answers the same entry.
        stat = await client.storage.stat(status.uri)
        assert (stat.uri, stat.name, stat.size) == (status.uri, name, status.size)


# -- answers our server never sends -------------------------------------------------------


def entry(name: str, **fields: Any) -> dict[str, Any]:
    status = {
        "path": name,
        "length": 1,
        "modificationTime": 1_700_000_000,
        "permission": "read",
        "type": "FILE",
    }
    return {"FileStatus": status | fields}


@pytest.fixture
async def answers() -> AsyncIterator[tuple[URL, list[bytes]]]:
    """A storage service whose LISTSTATUS answer is the body the test puts in the list,
    written in 7-byte pieces: every line is split across chunks."""
    body: list[bytes] = []

    async def list_status(request: web.Request) -> web.StreamResponse:
        assert request.query["op"] == "LISTSTATUS"
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        whole = b"".join(body)
        for start in range(0, len(whole), 7):
            await response.write(whole[start : start + 7])
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/storage/{path:.*}", list_status)
    async with TestServer(app, host="127.0.0.1") as server:
        yield server.make_url("/storage"), body


@pytest.fixture
async def remote(
    answers: tuple[URL, list[bytes]], make_config_data: MakeConfigData, tmp_path: Path
) -> AsyncIterator[RemoteStorage]:
    data = make_config_data()
    cluster = dataclasses.replace(data.clusters["default"], storage_url=answers[0])
    data = dataclasses.replace(data, clusters={"default": cluster})
    async with aiohttp.ClientSession() as session:
        core = _Core(session)
        yield RemoteStorage(core, Config(core, tmp_path, data, {}))


def ndjson(*items: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\r\n" for item in items)


async def test_an_in_band_error_midway_raises_after_the_entries_before_it(
    answers: tuple[URL, list[bytes]], remote: RemoteStorage
) -> None:
    names = [f"entry-{index:04d}" for index in range(2000)]
    answers[1].append(ndjson(*(entry(name) for name in names[:1500])))
    answers[1].append(ndjson({"error": "Input/output error", "errno": "EIO"}))
    answers[1].append(ndjson(*(entry(name) for name in names[1500:])))
    seen: list[FileStatus] = []

    async def consume() -> None:
        async for status in remote.list(URL("storage://default/alice/dir")):
            seen.append(status)

    with pytest.raises(OSError, match="Input/output error") as caught:
        await consume()

    assert caught.value.errno == errno.EIO
    assert [status.name for status in seen] == names[:1500]
    assert seen[-1].uri == URL("storage://default/alice/dir/entry-1499")


async def test_odd_field_values_read_as_before(
    answers: tuple[URL, list[bytes]], remote: RemoteStorage
) -> None:
    answers[1].append(
        ndjson(
            entry("fifo", type="FIFO"),
            entry("unhashable", type=["FILE"]),
            entry("link", type="SYMLINK", target="../elsewhere", permission="manage"),
            entry("dir", type="DIRECTORY", permission="write", length="12"),
        )
    )
    directory = URL("storage://default/alice/dir")
    when = 1_700_000_000

    statuses = [status async for status in remote.list(directory)]

    assert statuses == [
        FileStatus("fifo", 1, FileStatusType.UNKNOWN, when, Action.READ, directory / "fifo"),
        FileStatus(
            "unhashable", 1, FileStatusType.UNKNOWN, when, Action.READ, directory / "unhashable"
        ),
        FileStatus(
            "link",
            1,
            FileStatusType.SYMLINK,
            when,
            Action.MANAGE,
            directory / "link",
            "../elsewhere",
        ),
        FileStatus("dir", 12, FileStatusType.DIRECTORY, when, Action.WRITE, directory / "dir"),
    ]


@pytest.mark.parametrize("permission", ["admin", ["read"], 7])
async def test_an_unknown_permission_is_refused_as_before(
    answers: tuple[URL, list[bytes]], remote: RemoteStorage, permission: object
) -> None:
    answers[1].append(ndjson(entry("ok"), entry("odd", permission=permission)))
    seen: list[str] = []

    async def consume() -> None:
        async for status in remote.list(URL("storage://default/alice/dir")):
            seen.append(status.name)

    with pytest.raises(ValueError, match="is not a valid Action"):
        await consume()
    assert seen == ["ok"]
