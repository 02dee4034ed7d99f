"""SigV4 payload hashes of big S3 uploads computed in a worker thread, not on the event loop.

SigV4 signs the SHA-256 of every request body unless it travels over TLS with a checksum
header (botocore's rule, ``S3SigV4Auth._should_sha256_sign_payload``): so on the embedded
store's plain HTTP, and over TLS too since we send no checksums. botocore hashes inside the
(synchronous) signer, which on aiobotocore means on the event loop: for a 1 GiB upload about
2 s of loop time during which no part is sent or received, where boto3 hashes in its 10
transfer threads (``hashlib`` releases the GIL). Here the ``before-sign`` event (aiobotocore
awaits async handlers) hashes the body in a thread and leaves the digest in the request's
context; the signer below signs with it. The signature is the same as botocore's own: the
same digest of the same bytes, only computed elsewhere.

The signer is registered under its own name in botocore's table of signers and chosen, per
client, by a ``choose-signer`` handler where botocore would choose plain ``s3v4`` (presigned
URLs, S3 Express and unsigned operations keep theirs).
"""

import asyncio
import hashlib
import io
from typing import Any

import botocore.auth
from botocore.auth import S3SigV4Auth
from botocore.handlers import set_operation_specific_signer

SIGNATURE_VERSION = "neuro-s3v4"
_DIGEST = "neuro_sdk.payload_sha256"
# Below this the hash costs less than the hop to a thread.
THREAD_HASH_MIN = 256 * 1024


class _PrehashedS3SigV4Auth(S3SigV4Auth):
    def payload(self, request: Any) -> str:
        digest = request.context.get(_DIGEST)
        # botocore's own rules (private, so not in its stubs) decide whether a hash is signed.
        if (
            digest is None
            or self._is_streaming_checksum_payload(request)  # type: ignore[attr-defined]
            or not self._should_sha256_sign_payload(request)  # type: ignore[attr-defined]
        ):
            return str(super().payload(request))
        return str(digest)


def hash_payloads_in_threads(events: Any) -> None:
    """Makes the S3 client whose event emitter is ``events`` hash big bodies off the loop."""
    botocore.auth.AUTH_TYPE_MAPS.setdefault(SIGNATURE_VERSION, _PrehashedS3SigV4Auth)
    events.register_first("choose-signer.s3", _choose_signer)
    events.register("before-sign.s3", _hash_body)


def _choose_signer(context: dict[str, Any], signing_name: str, **kwargs: Any) -> str | None:
    # botocore's own choice (a later handler of the same event), with its "s3v4" replaced;
    # None lets that handler and the client's default decide as they would.
    chosen = set_operation_specific_signer(context=context, signing_name=signing_name)
    return SIGNATURE_VERSION if chosen == "s3v4" else None


async def _hash_body(request: Any, **kwargs: Any) -> None:
    request.context.pop(_DIGEST, None)  # a retry signs again, maybe a changed body
    body = request.body
    if isinstance(body, io.BytesIO):
        # Its size without `getbuffer()`, which copies a buffer shared with a `bytes`.
        position = body.tell()
        size = body.seek(0, io.SEEK_END) - position
        body.seek(position)
        if size >= THREAD_HASH_MIN:
            request.context[_DIGEST] = await asyncio.to_thread(_sha256_of_rest, body)
    elif isinstance(body, bytes | bytearray) and len(body) >= THREAD_HASH_MIN:
        request.context[_DIGEST] = await asyncio.to_thread(_sha256, body)


def _sha256_of_rest(body: io.BytesIO) -> str:
    # What botocore hashes: from the current position to the end. `getbuffer()` here also
    # does, in this thread, the copy that unshares a buffer made from `bytes` (aiohttp calls
    # it on the loop when it sends the body).
    with body.getbuffer() as view, view[body.tell() :] as rest:
        return hashlib.sha256(rest).hexdigest()


def _sha256(data: bytes | bytearray) -> str:
    return hashlib.sha256(data).hexdigest()
