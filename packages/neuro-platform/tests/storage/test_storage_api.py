"""The storage service over HTTP on a real server (docs/protocol.md §5)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import aiohttp
import pytest

from neuro_platform.testing import PlatformServer, running_platform
from neuro_platform.testing.fixtures import USERS

from .conftest import StorageUser, grant, raw_request

MiB = 1024 * 1024

# These look at a whole home, the root listing, a grant or the data dir on disk: each gets a
# server of its own. Every other test keeps to files of names no other test uses, so they
# share one server.
OWN_SERVER = {
    "test_fresh_user_has_an_empty_home_and_sees_only_their_own",
    "test_listing_shows_only_what_was_shared",
    "test_planted_symlinks_are_never_followed",
    "test_interrupted_upload_never_shows_under_the_final_name",
}


@pytest.fixture
def platform_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PlatformServer]:
    if request.node.originalname in OWN_SERVER:
        with running_platform(tmp_path, users=USERS) as server:
            yield server
    else:
        yield request.getfixturevalue("shared_platform_server")


async def test_chunked_upload_and_ranged_download_are_byte_identical(alice: StorageUser) -> None:
    data = os.urandom(5 * MiB + 333)
    # Like the SDK: CREATE with the first chunk, then WRITE the rest at increasing offsets.
    assert (await alice.put("alice/big.bin", data[:MiB])).status == 201
    for offset in range(MiB, len(data), MiB):
        chunk = data[offset : offset + MiB]
        written = await alice.request(
            "PATCH",
            "alice/big.bin",
            "WRITE",
            data=chunk,
            headers={"Content-Range": f"bytes {offset}-{offset + len(chunk) - 1}/*"},
        )
        assert written.status == 200, await written.text()

    whole = await alice.request("GET", "alice/big.bin", "OPEN")
    assert whole.status == 200
    assert hashlib.sha256(await whole.read()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert whole.headers["X-File-Type"] == "FILE"
    assert whole.headers["X-File-Length"] == str(len(data))
    assert whole.headers["X-File-Permission"] == "manage"
    assert whole.headers["Accept-Range"] == "bytes"
    assert (
        abs(parsedate_to_datetime(whole.headers["Last-Modified"]).timestamp() - time.time()) < 600
    )
    assert parsedate_to_datetime(whole.headers["Date"]) is not None

    tail = await alice.request("GET", "alice/big.bin", "OPEN", headers={"Range": "bytes=4000000-"})
    assert tail.status == 206
    assert tail.headers["Content-Range"] == f"bytes 4000000-{len(data) - 1}/{len(data)}"
    assert await tail.read() == data[4000000:]
    middle = await alice.request("GET", "alice/big.bin", "OPEN", headers={"Range": "bytes=10-19"})
    assert (middle.status, await middle.read()) == (206, data[10:20])
    suffix = await alice.request("GET", "alice/big.bin", "OPEN", headers={"Range": "bytes=-5"})
    assert (suffix.status, await suffix.read()) == (206, data[-5:])


async def test_small_files_answer_ranges_and_head_like_big_ones(alice: StorageUser) -> None:
    # Files up to 1 MiB are read whole in one go and answered in one write: same answers.
    data = os.urandom(MiB)
    assert (await alice.put("alice/small.bin", data)).status == 201
    whole = await alice.request("GET", "alice/small.bin", "OPEN")
    assert (whole.status, whole.headers["X-File-Length"]) == (200, str(MiB))
    assert await whole.read() == data
    middle = await alice.request("GET", "alice/small.bin", "OPEN", headers={"Range": "bytes=10-19"})
    assert middle.headers["Content-Range"] == f"bytes 10-19/{MiB}"
    assert (middle.status, await middle.read()) == (206, data[10:20])
    head = await alice.request("HEAD", "alice/small.bin", "OPEN")
    assert (head.status, head.headers["Content-Length"], await head.read()) == (200, str(MiB), b"")
    assert (await alice.put("alice/empty.bin", b"")).status == 201
    assert await alice.read("alice/empty.bin") == b""


async def test_unsatisfiable_range_answers_416_with_the_size(alice: StorageUser) -> None:
    await alice.put("alice/small.txt", b"0123456789")
    for header in ("bytes=10-", "bytes=50-60", "lines=1-2"):
        response = await alice.request("GET", "alice/small.txt", "OPEN", headers={"Range": header})
        assert response.status == 416, header
        assert response.headers["Content-Range"] == "bytes */10"


async def test_file_status_gives_the_absolute_path_and_listing_the_names(
    alice: StorageUser,
) -> None:
    await alice.put("alice/data/пустой файл.txt", b"")
    await alice.put("alice/data/日本 語.md", b"hello")
    assert (await alice.request("PUT", "alice/data/dir with spaces", "MKDIRS")).status == 201

    stat = await alice.stat("alice/data/日本 語.md")
    assert stat.status == 200
    status = (await stat.json())["FileStatus"]
    assert status["path"] == "/alice/data/日本 語.md"
    assert (status["type"], status["length"], status["permission"]) == ("FILE", 5, "manage")
    assert abs(status["modificationTime"] - time.time()) < 600

    listing = await alice.request(
        "GET", "alice/data", "LISTSTATUS", headers={"Accept": "application/x-ndjson"}
    )
    assert listing.headers["Content-Type"].startswith("application/x-ndjson")
    body = await listing.read()
    lines = body.split(b"\r\n")
    assert lines[-1] == b""  # every line ends with \r\n
    statuses = {s["path"]: s for s in (json.loads(line)["FileStatus"] for line in lines[:-1])}
    assert set(statuses) == {"пустой файл.txt", "日本 語.md", "dir with spaces"}
    assert statuses["dir with spaces"]["type"] == "DIRECTORY"
    assert statuses["пустой файл.txt"]["length"] == 0
    assert await alice.names("alice/data") == sorted(statuses)
    # The op may also come as a bare query key.
    bare_op = await alice.session.get(
        alice.url("alice/data").with_query("LISTSTATUS"), headers=alice.auth
    )
    assert len((await bare_op.json())["FileStatuses"]["FileStatus"]) == 3

    head = await alice.session.head(alice.url("alice/data/日本 語.md"), headers=alice.auth)
    assert (head.status, head.headers["X-File-Length"], await head.read()) == (200, "5", b"")
    head_dir = await alice.session.head(alice.url("alice/data"), headers=alice.auth)
    assert head_dir.headers["X-File-Type"] == "DIRECTORY"
    assert await alice.read("alice/data/пустой файл.txt") == b""


async def test_errors_carry_errno_for_the_sdk(alice: StorageUser) -> None:
    await alice.put("alice/file", b"x")
    await alice.request("PUT", "alice/dir", "MKDIRS")
    expectations = [
        (("GET", "alice/missing", "GETFILESTATUS"), 404, "ENOENT"),
        (("GET", "alice/missing", "OPEN"), 404, "ENOENT"),
        (("GET", "alice/file", "LISTSTATUS"), 400, "ENOTDIR"),
        (("PUT", "alice/file", "MKDIRS"), 400, "EEXIST"),
        (("PUT", "alice/file/sub", "MKDIRS"), 400, "ENOTDIR"),
        (("PUT", "alice/dir", "CREATE"), 400, "EISDIR"),
        (("GET", "alice/dir", "OPEN"), 400, "EISDIR"),
        (("DELETE", "alice/dir", "DELETE"), 400, "EISDIR"),
        (("DELETE", "alice/missing", "DELETE"), 404, "ENOENT"),
    ]
    for (method, path, op), status, code in expectations:
        response = await alice.request(method, path, op)
        assert response.status == status, (method, path, op)
        body = await response.json()
        assert body["errno"] == code, (method, path, op)
        assert path.split("/")[-1] in body["error"]


async def test_write_needs_an_existing_file_and_a_content_range(alice: StorageUser) -> None:
    missing = await alice.request(
        "PATCH", "alice/none", "WRITE", data=b"abc", headers={"Content-Range": "bytes 0-2/*"}
    )
    assert (missing.status, (await missing.json())["errno"]) == (404, "ENOENT")
    await alice.put("alice/f", b"abc")
    no_range = await alice.request("PATCH", "alice/f", "WRITE", data=b"abc")
    assert no_range.status == 400
    conditional = await alice.request(
        "PATCH",
        "alice/f",
        "WRITE",
        data=b"abc",
        headers={"Content-Range": "bytes 0-2/*", "If-Match": '"x"'},
    )
    assert conditional.status == 400
    assert await alice.read("alice/f") == b"abc"


async def test_recursive_delete_streams_progress(alice: StorageUser) -> None:
    for name in ("tree/a.txt", "tree/sub/b.txt", "tree/sub/deeper/c.txt"):
        await alice.put(f"alice/{name}", name.encode())
    response = await alice.request(
        "DELETE",
        "alice/tree",
        "DELETE",
        query={"recursive": "true"},
        headers={"Accept": "application/x-ndjson"},
    )
    assert response.status == 200
    events = [json.loads(line) for line in (await response.read()).splitlines() if line]
    assert {(e["path"], e["is_dir"]) for e in events} == {
        ("/alice/tree/a.txt", False),
        ("/alice/tree/sub/b.txt", False),
        ("/alice/tree/sub/deeper/c.txt", False),
        ("/alice/tree/sub/deeper", True),
        ("/alice/tree/sub", True),
        ("/alice/tree", True),
    }
    assert events[-1] == {"path": "/alice/tree", "is_dir": True}
    await alice.put("alice/single", b"x")
    plain = await alice.request("DELETE", "alice/single", "DELETE")
    assert plain.status == 204
    assert (await alice.stat("alice/single")).status == 404


async def test_rename_moves_and_reports_bad_destinations(alice: StorageUser) -> None:
    await alice.put("alice/old.txt", b"content")
    moved = await alice.request(
        "POST", "alice/old.txt", "RENAME", query={"destination": "/alice/new.txt"}
    )
    assert moved.status == 204
    assert await alice.read("alice/new.txt") == b"content"
    assert (await alice.stat("alice/old.txt")).status == 404
    missing = await alice.request(
        "POST", "alice/old.txt", "RENAME", query={"destination": "/alice/x.txt"}
    )
    assert missing.status == 404
    no_parent = await alice.request(
        "POST", "alice/new.txt", "RENAME", query={"destination": "/alice/no/such/x.txt"}
    )
    assert (no_parent.status, (await no_parent.json())["errno"]) == (400, "ENOENT")


async def test_fresh_user_has_an_empty_home_and_sees_only_their_own(
    alice: StorageUser, bob: StorageUser
) -> None:
    assert await alice.names("alice") == []
    await bob.put("bob/private.txt", b"bob's")
    assert await alice.names("") == ["alice"]
    usage = await alice.request("GET", "alice", "GETDISKUSAGE")
    body = await usage.json()
    assert set(body) == {"total", "used", "free"}
    assert 0 < body["free"] <= body["total"]


async def test_another_user_is_refused_with_the_missing_permission(
    alice: StorageUser, bob: StorageUser
) -> None:
    await alice.put("alice/secret.txt", b"alice only")
    read = await bob.request("GET", "alice/secret.txt", "OPEN")
    assert read.status == 403
    assert await read.json() == {
        "missing": [{"uri": "storage://default/alice/secret.txt", "action": "read"}]
    }
    for method, op in (("PUT", "CREATE"), ("PUT", "MKDIRS"), ("DELETE", "DELETE")):
        response = await bob.request(method, "alice/secret.txt", op, data=b"bob was here")
        assert response.status == 403
        assert (await response.json())["missing"] == [
            {"uri": "storage://default/alice/secret.txt", "action": "write"}
        ]
    stolen = await bob.request(
        "POST", "alice/secret.txt", "RENAME", query={"destination": "/bob/stolen.txt"}
    )
    assert stolen.status == 403
    assert (await bob.request("GET", "alice", "LISTSTATUS")).status == 403
    assert await alice.read("alice/secret.txt") == b"alice only"
    unauthenticated = await alice.session.get(alice.url("alice/secret.txt", op="OPEN"))
    assert unauthenticated.status == 401


async def test_listing_shows_only_what_was_shared(
    platform_server: PlatformServer, alice: StorageUser, bob: StorageUser
) -> None:
    await alice.put("alice/shared/report.txt", b"for bob")
    await alice.put("alice/private/diary.txt", b"not for bob")
    await alice.put("alice/top.txt", b"not for bob")
    await grant(platform_server, "bob", "storage://default/alice/shared", "read")

    assert await bob.names("alice") == ["shared"]
    assert await bob.names("") == ["alice", "bob"]
    assert await bob.names("alice/shared") == ["report.txt"]
    assert await bob.read("alice/shared/report.txt") == b"for bob"
    status = await (await bob.stat("alice/shared/report.txt")).json()
    assert status["FileStatus"]["permission"] == "read"
    assert (await bob.request("GET", "alice/top.txt", "OPEN")).status == 403
    assert (await bob.put("alice/shared/report.txt", b"changed")).status == 403


@pytest.mark.parametrize(
    "target",
    [
        "/api/v1/storage/alice/%2e%2e/bob/private.txt?op=OPEN",
        "/api/v1/storage/alice/..%2Fbob/private.txt?op=OPEN",
        "/api/v1/storage/alice/%2E%2E%2Fbob%2Fprivate.txt?op=OPEN",
        "/api/v1/storage/alice/x%00y?op=OPEN",
        "/api/v1/storage/alice/./../bob/private.txt?op=OPEN",
        "/api/v1/storage/alice/.neuro-partial-x?op=OPEN",
    ],
)
async def test_traversal_requests_are_refused(
    platform_server: PlatformServer, alice: StorageUser, bob: StorageUser, target: str
) -> None:
    await bob.put("bob/private.txt", b"bob's secret")
    response = await raw_request(platform_server, "GET", target, alice.token)
    assert response.status in (400, 403, 404)
    assert b"bob's secret" not in response.body


async def test_absolute_paths_and_bad_destinations_stay_in_storage(
    platform_server: PlatformServer, alice: StorageUser
) -> None:
    await alice.put("alice/a.txt", b"a")
    etc = await raw_request(
        platform_server, "GET", "/api/v1/storage//etc/passwd?op=OPEN", alice.token
    )
    assert etc.status == 403
    assert b"root:" not in etc.body
    for destination in ("/../../escaped", "/alice/../../escaped", "/alice/\x00"):
        response = await alice.request(
            "POST", "alice/a.txt", "RENAME", query={"destination": destination}
        )
        assert response.status == 400, destination
    assert await alice.read("alice/a.txt") == b"a"
    assert not (platform_server.data_dir / "escaped").exists()
    assert not (platform_server.data_dir.parent / "escaped").exists()


async def test_planted_symlinks_are_never_followed(
    platform_server: PlatformServer, alice: StorageUser, bob: StorageUser
) -> None:
    outside = platform_server.data_dir.parent / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("host secret")
    await alice.request("PUT", "alice", "MKDIRS")
    await bob.put("bob/private.txt", b"bob's secret")
    home = platform_server.data_dir / "storage" / "default" / "alice"
    (home / "to-outside").symlink_to(outside)
    (home / "to-host-file").symlink_to(outside / "secret.txt")
    (home / "to-bob").symlink_to("../bob")

    listing = await alice.request("GET", "alice", "LISTSTATUS")
    types = {s["path"]: s["type"] for s in (await listing.json())["FileStatuses"]["FileStatus"]}
    assert types == {"to-outside": "SYMLINK", "to-host-file": "SYMLINK", "to-bob": "SYMLINK"}
    for path in ("alice/to-host-file", "alice/to-outside/secret.txt", "alice/to-bob/private.txt"):
        response = await alice.request("GET", path, "OPEN")
        assert (response.status, (await response.json())["errno"]) == (400, "ELOOP")
    writes = [
        alice.put("alice/to-outside/planted.txt", b"evil"),
        alice.put("alice/to-bob/planted.txt", b"evil"),
        alice.request("PUT", "alice/to-outside/dir", "MKDIRS"),
        alice.request(
            "PATCH",
            "alice/to-host-file",
            "WRITE",
            data=b"evil",
            headers={"Content-Range": "bytes 0-3/*"},
        ),
        alice.request("GET", "alice/to-bob", "LISTSTATUS"),
    ]
    for write in writes:
        assert (await write).status == 400
    removed = await alice.request(
        "DELETE", "alice/to-outside", "DELETE", query={"recursive": "true"}
    )
    assert removed.status == 204

    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "host secret"
    assert await bob.read("bob/private.txt") == b"bob's secret"
    assert await bob.names("bob") == ["private.txt"]


async def test_interrupted_upload_never_shows_under_the_final_name(
    platform_server: PlatformServer, alice: StorageUser
) -> None:
    await alice.put("alice/model.bin", b"old model")
    assert platform_server.base_url.port is not None
    cut_uploads = [
        ("model.bin", 10 * MiB, 3 * MiB),  # big bodies are streamed to a temporary file
        ("fresh.bin", 10 * MiB, 3 * MiB),
        ("model.bin", 64 * 1024, 10 * 1024),  # small ones are read whole before writing
        ("fresh-small.bin", 64 * 1024, 10 * 1024),
    ]
    for name, declared, sent in cut_uploads:
        _, writer = await asyncio.open_connection("127.0.0.1", platform_server.base_url.port)
        writer.write(
            (
                f"PUT /api/v1/storage/alice/{name}?op=CREATE HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {alice.token}\r\nContent-Length: {declared}\r\n\r\n"
            ).encode()
            + os.urandom(sent)
        )
        await writer.drain()
        writer.close()  # the client dies mid-upload
        await writer.wait_closed()

    assert await alice.read("alice/model.bin") == b"old model"
    assert (await alice.stat("alice/fresh.bin")).status == 404
    assert (await alice.stat("alice/fresh-small.bin")).status == 404
    assert await alice.names("alice") == ["model.bin"]


async def test_concurrent_writers_to_one_file_and_one_directory(alice: StorageUser) -> None:
    versions = [bytes([i]) * (2 * MiB + i) for i in range(6)]
    results = await asyncio.gather(*(alice.put("alice/shared.bin", v) for v in versions))
    assert [r.status for r in results] == [201] * len(versions)
    assert await alice.read("alice/shared.bin") in versions

    files = {f"f{i}.txt": os.urandom(1000 + i) for i in range(30)}
    await asyncio.gather(
        *(alice.put(f"alice/many/{name}", data) for name, data in files.items()),
        *(alice.request("PUT", f"alice/many/sub{i}", "MKDIRS") for i in range(5)),
    )
    assert await alice.names("alice/many") == sorted([*files, *(f"sub{i}" for i in range(5))])
    for name, data in files.items():
        assert await alice.read(f"alice/many/{name}") == data


async def test_a_second_cluster_has_storage_of_its_own(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    config = {"clusters": [{"name": "default"}, {"name": "other"}]}
    with running_platform(tmp_path, config=config) as server:
        server.create_user("alice", "alice-password")
        token = server.issue_token("alice")
        default = StorageUser("alice", token, server.api_url / "storage", session)
        other = StorageUser("alice", token, server.api_url / "clusters/other/storage", session)
        assert (await other.put("alice/only-here.txt", b"other cluster")).status == 201
        assert await other.read("alice/only-here.txt") == b"other cluster"
        assert await default.names("alice") == []
        on_disk = server.data_dir / "storage" / "other" / "alice" / "only-here.txt"
        assert on_disk.read_bytes() == b"other cluster"
        refused = await other.request("GET", "bob", "LISTSTATUS")
        assert (await refused.json())["missing"][0]["uri"] == "storage://other/bob"
