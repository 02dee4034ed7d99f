"""The embedded SeaweedFS's internal ports (master, volume, filer HTTP and gRPC; the S3
gateway's gRPC) refuse a local client that is not the store itself, while S3 through the
gateway keeps working (docs/security.md, "Buckets").

A "plain client" is what any local user can do: plain HTTP, TLS without a client
certificate, and cleartext HTTP/2 (what gRPC speaks without TLS). grpcio is not installed:
a gRPC server is shown to refuse by its TLS handshake failing without a client certificate
and by no HTTP/2 SETTINGS frame coming back for a cleartext preface; the same probe with the
store's own client certificate gets that frame (the port does serve gRPC).
"""

from __future__ import annotations

import http.client
import socket
import ssl
from pathlib import Path

from neuro_platform.testing import PlatformServer
from neuro_platform.testing.buckets import api_session, s3_client

_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_H2_EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
_H2_SETTINGS_TYPE = 4
_TIMEOUT_S = 10


def _weed_ports(data_dir: Path) -> dict[str, int]:
    """The ports of the `weed server` running on this data dir, from its command line."""
    marker = f"-dir={data_dir / 'buckets' / 'seaweed'}".encode()
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in args:
            ports = {}
            for arg in args:
                name, _, value = arg.decode().lstrip("-").partition("=")
                if name.endswith(("port", "port.grpc")) and value.isdigit() and value != "0":
                    ports[name] = int(value)
            return ports
    raise AssertionError(f"no weed process with {marker!r}")


def _plain_http(port: int, method: str, path: str) -> tuple[int, bytes] | None:
    """(status, body) of a plain HTTP request, or None when the connection gave no answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=_TIMEOUT_S)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def _tls_without_client_cert(port: int, method: str, path: str) -> tuple[int, bytes] | None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=_TIMEOUT_S, context=context)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def _first_h2_frame_type(sock: socket.socket) -> int | None:
    """Sends the HTTP/2 preface and answers the type of the first frame back (None: none)."""
    try:
        sock.sendall(_H2_PREFACE + _H2_EMPTY_SETTINGS)
        header = b""
        while len(header) < 9:
            chunk = sock.recv(9 - len(header))
            if not chunk:
                return None
            header += chunk
    except OSError:
        return None
    return header[3]


def _grpc_answer(port: int, context: ssl.SSLContext | None) -> int | None:
    with socket.create_connection(("127.0.0.1", port), timeout=_TIMEOUT_S) as raw:
        if context is None:
            return _first_h2_frame_type(raw)
        try:
            tls = context.wrap_socket(raw)
        except OSError:  # ssl.SSLError included: the handshake itself failed
            return None
        with tls:
            return _first_h2_frame_type(tls)


def _tls_context(client_dir: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    if client_dir is not None:
        context.load_cert_chain(client_dir / "client.crt", client_dir / "client.key")
    return context


async def test_internal_ports_refuse_plain_clients_while_s3_works(
    buckets_platform_server: PlatformServer,
) -> None:
    server = buckets_platform_server
    secret = b"only through S3 with credentials"
    async with api_session(server, "alice") as alice:
        async with alice.post(
            server.api_url / "buckets/buckets", json={"name": "internal-ports"}
        ) as response:
            assert response.status == 201, await response.text()
        url = server.api_url / "buckets/buckets/internal-ports/make_tmp_credentials"
        async with alice.post(url) as response:
            assert response.status == 200, await response.text()
            credentials = (await response.json())["credentials"]
    # S3 through the gateway, with the handed-out credentials, works.
    s3 = s3_client(credentials)
    bucket = credentials["bucket_name"]
    s3.put_object(Bucket=bucket, Key="k", Body=secret)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == secret

    ports = _weed_ports(server.data_dir)
    http_ports = {name: ports[f"{name}.port"] for name in ("master", "volume", "filer")}
    grpc_ports = {name: ports[f"{name}.port.grpc"] for name in ("master", "volume", "filer", "s3")}
    tls_dir = server.data_dir / "buckets" / "tls"
    probes = [
        (http_ports["master"], "GET", "/dir/assign"),
        (http_ports["master"], "POST", "/dir/assign"),
        (http_ports["master"], "GET", "/dir/lookup?volumeId=1"),
        (http_ports["volume"], "GET", "/status"),
        (http_ports["volume"], "GET", "/1,01"),
        (http_ports["filer"], "GET", f"/buckets/{bucket}/k"),
        (http_ports["filer"], "GET", f"/buckets/{bucket}/"),
    ]
    for port, method, path in probes:
        for probe in (_plain_http, _tls_without_client_cert):
            answer = probe(port, method, path)
            # Go's TLS server answers plain HTTP with a fixed 400; TLS without a client
            # certificate gets no answer at all.
            assert answer is None or answer[0] == 400, (probe.__name__, port, path, answer)
            assert answer is None or secret not in answer[1]
            assert answer is None or b"fid" not in answer[1]
    for name, port in grpc_ports.items():
        assert _grpc_answer(port, None) is None, name  # cleartext HTTP/2
        assert _grpc_answer(port, _tls_context(None)) is None, name
        # The store's own client certificate is let in: the port does serve gRPC.
        assert _grpc_answer(port, _tls_context(tls_dir)) == _H2_SETTINGS_TYPE, name

    # What the store's files look like: nothing of it is readable to others.
    for file in [tls_dir, *tls_dir.iterdir(), server.data_dir / "buckets" / "security.toml"]:
        assert file.stat().st_mode & 0o077 == 0, file


async def test_s3_keeps_working_for_multipart_uploads(
    buckets_platform_server: PlatformServer,
) -> None:
    """Multipart parts reach the volume server through the filer, over mutual TLS now."""
    server = buckets_platform_server
    async with api_session(server, "alice") as alice:
        async with alice.post(server.api_url / "buckets/buckets", json={}) as response:
            assert response.status == 201, await response.text()
            bucket_id = (await response.json())["id"]
        url = server.api_url / "buckets/buckets" / bucket_id / "make_tmp_credentials"
        async with alice.post(url) as response:
            credentials = (await response.json())["credentials"]
    s3 = s3_client(credentials)
    bucket = credentials["bucket_name"]
    part = b"p" * (5 * 1024 * 1024)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")
    parts = []
    for number in (1, 2):
        answer = s3.upload_part(
            Bucket=bucket, Key="big", UploadId=upload["UploadId"], PartNumber=number, Body=part
        )
        parts.append({"ETag": answer["ETag"], "PartNumber": number})
    s3.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == part + part
