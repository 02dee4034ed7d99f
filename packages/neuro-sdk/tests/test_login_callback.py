"""The SDK's own pieces of the OAuth flow: PKCE values and the local callback server."""

import base64
import hashlib
import socket

import aiohttp
import pytest
from yarl import URL

from neuro_sdk import AuthError
from neuro_sdk._login import _PKCE, _callback_server, _CallbackReceiver


def test_pkce_challenge_is_s256_of_the_verifier() -> None:
    pkce = _PKCE.generate()
    digest = hashlib.sha256(pkce.verifier.encode()).digest()
    assert pkce.challenge == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert len(pkce.verifier) == 43  # 32 random bytes, unpadded base64
    assert "=" not in pkce.verifier
    assert _PKCE.generate().verifier != pkce.verifier


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


async def status_of(url: URL) -> int:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"error": "access_denied", "error_description": "user said no"}, 403),
        ({"error": "unauthorized", "error_description": "user said no"}, 401),
        ({"error": "server_error", "error_description": "user said no"}, 400),
    ],
)
async def test_callback_error_is_reported_to_browser_and_caller(
    query: dict[str, str], status: int
) -> None:
    receiver = _CallbackReceiver(success_redirect_url=None)
    urls = tuple(URL(f"http://127.0.0.1:{port}") for port in free_ports(1))
    async with _callback_server(receiver, urls) as url:
        assert await status_of(url.with_query(query)) == status
    with pytest.raises(AuthError, match="user said no"):
        await receiver.code


async def test_callback_without_code_is_a_bad_request() -> None:
    receiver = _CallbackReceiver(success_redirect_url=None)
    urls = tuple(URL(f"http://127.0.0.1:{port}") for port in free_ports(1))
    async with _callback_server(receiver, urls) as url:
        assert await status_of(url) == 400
    with pytest.raises(AuthError, match="no code"):
        await receiver.code


async def test_callback_tries_the_next_port_and_redirects_on_success() -> None:
    busy_port, free_port = free_ports(2)
    done = URL("http://127.0.0.1:1/done")
    receiver = _CallbackReceiver(success_redirect_url=done)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", busy_port))
        busy.listen()
        urls = (URL(f"http://127.0.0.1:{busy_port}"), URL(f"http://127.0.0.1:{free_port}"))
        async with _callback_server(receiver, urls) as url, aiohttp.ClientSession() as session:
            assert url.port == free_port
            async with session.get(url.with_query(code="the-code"), allow_redirects=False) as resp:
                assert resp.status == 302
                assert resp.headers["Location"] == str(done)
    assert await receiver.code == "the-code"
