"""A job gets a bucket's credentials as an environment variable: `secret_env` with a
`blob://` URI (docs/buckets-server.md). The job's code signs S3 requests with them itself
(python3 and SigV4 from the standard library: the image has no boto3)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from neuro_platform.orchestrator.testing import build_base_image
from neuro_platform.testing.buckets import s3_client

from .client import JobsClient

# Reads $BUCKET (JSON credentials), writes and reads one blob of its bucket, then tries the
# bucket named in argv[1], which those credentials must not open.
SCRIPT = """
import datetime, hashlib, hmac, json, os, sys, urllib.error, urllib.parse, urllib.request
c = json.loads(os.environ["BUCKET"])
def call(method, bucket, key, body=b""):
    host = urllib.parse.urlsplit(c["endpoint_url"]).netloc
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    path, digest = "/" + bucket + "/" + key, hashlib.sha256(body).hexdigest()
    signed = "host;x-amz-content-sha256;x-amz-date"
    canonical = "\\n".join([method, path, "", "host:" + host, "x-amz-content-sha256:" + digest,
        "x-amz-date:" + stamp, "", signed, digest])
    scope = day + "/" + c["region_name"] + "/s3/aws4_request"
    to_sign = "\\n".join(["AWS4-HMAC-SHA256", stamp, scope,
        hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + c["secret_access_key"]).encode()
    for part in (day, c["region_name"], "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    auth = ("AWS4-HMAC-SHA256 Credential=" + c["access_key_id"] + "/" + scope
        + ", SignedHeaders=" + signed + ", Signature=" + signature)
    request = urllib.request.Request(c["endpoint_url"] + path, method=method,
        data=body if method == "PUT" else None,
        headers={"x-amz-date": stamp, "x-amz-content-sha256": digest, "Authorization": auth})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, b""
print(call("PUT", c["bucket_name"], "from-job.txt", b"written in a job")[0])
print(*call("GET", c["bucket_name"], "from-job.txt"))
print(call("GET", sys.argv[1], "secret")[0])
"""


@pytest.fixture(scope="session")
def debian_image() -> str:
    return build_base_image("debian")


async def _bucket(alice: JobsClient) -> dict[str, Any]:
    url = alice.server.api_url / "buckets" / "buckets"
    async with alice.session.post(url, json={"name": f"j-{uuid.uuid4().hex[:10]}"}) as r:
        assert r.status == 201, await r.text()
        bucket: dict[str, Any] = await r.json()
    async with alice.session.post(url / bucket["id"] / "make_tmp_credentials") as r:
        bucket["credentials"] = (await r.json())["credentials"]
    return bucket


async def test_a_job_reaches_its_bucket_only_with_the_credentials_in_its_env(
    alice: JobsClient, bob: JobsClient, debian_image: str
) -> None:
    mine, other = await _bucket(alice), await _bucket(alice)
    theirs = other["credentials"]
    s3_client(theirs).put_object(Bucket=theirs["bucket_name"], Key="secret", Body=b"no")
    uri = f"blob://default/alice/{mine['name']}"
    body = {
        "image": debian_image,
        "command": f"python3 -c \"import os; exec(os.environ['SCRIPT'])\" {theirs['bucket_name']}",
        "preset_name": "small",
        "env": {"SCRIPT": SCRIPT},
        "secret_env": {"BUCKET": uri},
    }

    # bob may not read alice's bucket: refused at submission, no credentials made.
    status, answer = await bob.submit_error(body)
    assert status == 403, answer

    job = await alice.submit(body)
    done = await alice.wait_for(job["id"], ["succeeded", "failed"])
    logs = (await alice.logs(job["id"])).decode()
    assert done["status"] == "succeeded", logs
    assert logs.splitlines() == ["200", "200 b'written in a job'", "403"]
    # The variable's value never shows in the job's description, only the URI.
    assert (await alice.get(job["id"]))["container"]["secret_env"] == {"BUCKET": uri}
    ours = mine["credentials"]
    got = s3_client(ours).get_object(Bucket=ours["bucket_name"], Key="from-job.txt")
    assert got["Body"].read() == b"written in a job"
    assert done["history"]["exit_code"] == 0


async def _first_log_line(alice: JobsClient, job_id: str) -> str:
    """The job's first line of output, read while it runs."""
    received = b""
    async with alice.session.ws_connect(alice.jobs_url / job_id / "log_ws") as ws:
        async for message in ws:
            received += message.data
            if b"\n" in received:
                break
    return received.split(b"\n", 1)[0].decode()


async def test_a_jobs_bucket_credentials_end_when_the_job_ends(alice: JobsClient) -> None:
    """Not at the job's `max_run_time_minutes` (7 days without one): once its container is
    gone, the credentials it was given open nothing."""
    mine = await _bucket(alice)
    uri = f"blob://default/alice/{mine['name']}"
    body = {
        "image": "neuro-base/busybox:latest",
        "command": "sh -c 'echo \"$BUCKET\"; sleep 600'",
        "preset_name": "small",
        "secret_env": {"BUCKET": uri},
    }
    job = await alice.submit(body)
    await alice.wait_for(job["id"], ["running"])
    given = json.loads(await _first_log_line(alice, job["id"]))
    s3 = s3_client(given)
    s3.put_object(Bucket=given["bucket_name"], Key="while-running", Body=b"yes")

    assert await alice.kill(job["id"]) == 204
    await alice.wait_until_collected(job["id"])
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket=given["bucket_name"], Key="while-running")
    assert refused.value.response["Error"]["Code"] in ("InvalidAccessKeyId", "AccessDenied")
    # The bucket itself is untouched: its owner's own credentials still read the blob.
    ours = mine["credentials"]
    got = s3_client(ours).get_object(Bucket=ours["bucket_name"], Key="while-running")
    assert got["Body"].read() == b"yes"
