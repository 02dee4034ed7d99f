"""`GET /api/v1/openapi.json` describes every route, and no route answers 5xx to input made
from that description (property-based, bounded: a few hundred requests on loopback)."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from neuro_platform.api.openapi import openapi_document
from neuro_platform.app import create_app
from neuro_platform.settings import CommandLineOverrides, load_settings
from neuro_platform.testing import PlatformServer

# Per operation; about 50 operations make a few hundred requests in all.
EXAMPLES_PER_OPERATION = 6
REQUEST_TIMEOUT_S = 60.0
PATH_VALUES = st.sampled_from(["alice", "bob", "alice/data", "alice:team", "job-x", "80"])
JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
RAW_JSON = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
).map(lambda v: json.dumps(v).encode())
DEEP_JSON = st.integers(1, 6000).map(lambda n: b"[" * n + b"]" * n)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
BIG = st.integers(0, 2**70)
RANGE_HEADERS = {
    "Range": st.builds(lambda a, b: f"bytes={a}-{b}", BIG, BIG) | HEADER_TEXT,
    "Content-Range": st.builds(lambda a, b: f"bytes {a}-{b}/*", BIG, BIG) | HEADER_TEXT,
}


def test_openapi_describes_every_route(tmp_path: Path) -> None:
    settings_ = load_settings(None, env={}, overrides=CommandLineOverrides(data_dir=tmp_path))
    app = create_app(settings_)
    document = openapi_document(app)
    described = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    for resource in _resources(app):
        for route in resource:
            if route.method in ("HEAD", "*"):
                continue  # HEAD duplicates GET; "*" routes are listed per method
            assert (resource.canonical, route.method) in described
    submit = document["paths"]["/api/v1/jobs"]["post"]["requestBody"]["content"]
    assert submit["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JobSubmissionBody"
    }
    assert "JobSubmissionBody" in document["components"]["schemas"]


# Its requests reach every route, the bucket routes (which start SeaweedFS) and /v2/ (where
# a missing docker-registry is a 503) among them.
@pytest.mark.seaweedfs
@pytest.mark.registry
def test_fuzzed_requests_from_the_openapi_document_never_get_a_5xx(
    platform_server: PlatformServer,
) -> None:
    token = platform_server.issue_token("alice")
    port = platform_server.base_url.port
    assert port is not None
    auth = {"Authorization": f"Bearer {token}"}
    status, raw = _send(port, "GET", "/api/v1/openapi.json", auth, limit=None)
    assert status == 200
    document = json.loads(raw)
    operations = [
        (path, method.upper(), operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) > 40
    server_errors: list[str] = []
    statuses: list[int] = []
    for path, method, operation in operations:
        _fuzz(port, token, document, path, method, operation, server_errors, statuses)
    assert server_errors == []
    # The fuzz reached the handlers: some requests were taken, many refused.
    assert len(statuses) >= 200
    assert any(200 <= s < 300 for s in statuses)
    assert sum(400 <= s < 500 for s in statuses) > len(statuses) // 4


def _fuzz(
    port: int,
    token: str,
    document: dict[str, Any],
    path: str,
    method: str,
    operation: dict[str, Any],
    server_errors: list[str],
    statuses: list[int],
) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(_request(document, path, operation))
    def check(request: tuple[str, dict[str, str], bytes | None]) -> None:
        target, headers, body = request
        headers = {"Authorization": f"Bearer {token}", **headers}
        status, answer = _send(port, method, target, headers, body)
        statuses.append(status)
        if status >= 500:
            server_errors.append(f"{method} {target} {body!r:.200} -> {status} {answer!r:.200}")

    check()


def _request(
    document: dict[str, Any], path: str, operation: dict[str, Any]
) -> st.SearchStrategy[tuple[str, dict[str, str], bytes | None]]:
    # A closure, not arguments of the composite: hypothesis would print the whole document.
    @st.composite
    def draw_request(draw: st.DrawFn) -> tuple[str, dict[str, str], bytes | None]:
        return _draw_request(draw, document, path, operation)

    return draw_request()


def _draw_request(
    draw: st.DrawFn, document: dict[str, Any], path: str, operation: dict[str, Any]
) -> tuple[str, dict[str, str], bytes | None]:
    target = path
    query: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        name, where = parameter["name"], parameter["in"]
        if where == "path":
            value = draw(PATH_VALUES | st.text(max_size=12))
            safe = "/" if name == "path" else ""
            target = target.replace(f"{{{name}}}", urllib.parse.quote(value, safe=safe))
        elif where == "query" and (parameter.get("required") or draw(st.booleans())):
            value = draw(_schema_values(document, parameter["schema"]) | st.text(max_size=12))
            values = value if isinstance(value, list) else [value]
            query += [(name, _text(v)) for v in values]
        elif where == "header" and draw(st.booleans()):
            headers[name] = draw(RANGE_HEADERS.get(name, HEADER_TEXT))
    if query:
        target += "?" + urllib.parse.urlencode(query)
    body = None
    for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
        headers["Content-Type"] = media_type
        if media_type == "application/json":
            made = _schema_values(document, content["schema"]).map(lambda v: json.dumps(v).encode())
            body = draw(made | RAW_JSON | DEEP_JSON | st.binary(max_size=16))
        elif media_type == "application/x-www-form-urlencoded":
            fields = draw(st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=6))
            body = urllib.parse.urlencode(fields).encode()
        else:
            body = draw(st.binary(max_size=64) | DEEP_JSON)
    return target, headers, body


def _schema_values(document: dict[str, Any], schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of a JSON schema as pydantic writes them: $ref, anyOf, enum, const, objects,
    arrays, strings (pattern, length), numbers (bounds), booleans, null. Values often break
    the bounds on purpose: edges and just past them are what finds overflows."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return st.deferred(
            lambda: _schema_values(document, document["components"]["schemas"][name])
        )
    if "anyOf" in schema:
        return st.one_of([_schema_values(document, s) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: _schema_values(document, v) for k, v in properties.items() if k in required},
            optional={
                k: _schema_values(document, v) for k, v in properties.items() if k not in required
            },
        ) | st.dictionaries(st.text(max_size=8), JSON_LEAVES, max_size=3)
    if kind == "array":
        items = _schema_values(document, schema.get("items", {}))
        return st.lists(items, max_size=3)
    if kind == "string":
        texts = st.text(max_size=20) | st.just("\x00")
        if "pattern" in schema:
            texts |= st.from_regex(schema["pattern"], fullmatch=True).filter(lambda t: len(t) < 200)
        return texts
    if kind in ("integer", "number"):
        edges = [
            v + d
            for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
            if (v := schema.get(key)) is not None
            for d in (-1, 0, 1)
        ]
        numbers: st.SearchStrategy[Any] = st.integers() | st.sampled_from([0, -1, 2**63, 10**30])
        if edges:
            numbers |= st.sampled_from(edges)
        return numbers | st.floats(allow_nan=False) if kind == "number" else numbers
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return JSON_LEAVES


def _text(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def _send(
    port: int,
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes | None = None,
    limit: int | None = 64 * 1024,
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(limit)
    finally:
        connection.close()


def _resources(app: Any) -> list[Any]:
    found = []
    for resource in app.router.resources():
        info = resource.get_info()
        found += _resources(info["app"]) if "app" in info else [resource]
    return found
