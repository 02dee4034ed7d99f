"""`GET /api/v1/openapi.json`: an OpenAPI 3.1 document of every route the server answers.

It is built from the router itself, so no route can be left out, and from the pydantic models
the handlers read their input with (`describe` registers them on the handler), so the schema
is the validation. Handlers that take no input are listed with their path parameters only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, TypeAdapter

from .. import __version__

H = TypeVar("H", bound=Callable[..., Any])
REF_TEMPLATE = "#/components/schemas/{model}"
ALL_METHODS = ("GET", "HEAD", "PUT", "PATCH", "POST", "DELETE")
_PATH_PARAMETER = re.compile(r"{(\w+)}")

routes = web.RouteTableDef()


@dataclass(frozen=True)
class Header:
    name: str
    schema: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class Operation:
    summary: str
    body: Any = None  # a pydantic model or any type a TypeAdapter takes
    media_type: str = "application/json"
    query: type[BaseModel] | None = None
    headers: tuple[Header, ...] = ()
    # For routes registered with method "*": the methods they answer.
    methods: tuple[str, ...] = field(default=ALL_METHODS)


_OPERATIONS: dict[Callable[..., Any], Operation] = {}


def describe(
    summary: str,
    *,
    body: Any = None,
    media_type: str = "application/json",
    query: type[BaseModel] | None = None,
    headers: tuple[Header, ...] = (),
    methods: tuple[str, ...] = ALL_METHODS,
) -> Callable[[H], H]:
    """Registers what a handler reads, for the OpenAPI document."""

    def register(handler: H) -> H:
        _OPERATIONS[handler] = Operation(summary, body, media_type, query, headers, methods)
        return handler

    return register


@routes.get("/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    root = request.match_info.apps[0]
    return web.json_response(openapi_document(root))


def openapi_document(root: web.Application) -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    found = list(_routes(root))
    for path, method, handler in found:
        if method == "HEAD" and (path, "GET", handler) in found:
            continue  # aiohttp's implicit HEAD of a GET: the same operation
        operation = _OPERATIONS.get(handler)
        methods = (method,) if method != "*" else (operation.methods if operation else ALL_METHODS)
        for one in methods:
            paths.setdefault(path, {})[one.lower()] = _operation_json(
                path, handler, operation, components
            )
    return {
        "openapi": "3.1.0",
        "info": {"title": "Neuro Platform", "version": __version__},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _routes(app: web.Application) -> Iterator[tuple[str, str, Callable[..., Any]]]:
    for resource in app.router.resources():
        info = resource.get_info()
        if "app" in info:  # a sub-application; its resources already carry its prefix
            yield from _routes(info["app"])
            continue
        for route in resource:
            yield resource.canonical, route.method, route.handler


def _operation_json(
    path: str,
    handler: Callable[..., Any],
    operation: Operation | None,
    components: dict[str, Any],
) -> dict[str, Any]:
    summary = operation.summary if operation else (handler.__doc__ or handler.__name__)
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAMETER.findall(path)
    ]
    result: dict[str, Any] = {
        "operationId": f"{handler.__module__}.{handler.__name__}",
        "summary": summary.strip().splitlines()[0],
        "responses": {"default": {"description": 'An answer; errors are {"error": "..."}'}},
    }
    if operation is not None:
        if operation.query is not None:
            parameters += _query_parameters(operation.query, components)
        parameters += [
            {"name": h.name, "in": "header", "schema": h.schema, "description": h.description}
            for h in operation.headers
        ]
        if operation.body is not None:
            result["requestBody"] = {
                "required": True,
                "content": {operation.media_type: {"schema": _schema(operation.body, components)}},
            }
    result["parameters"] = parameters
    return result


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    components.update(schema.pop("$defs", {}))
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": property_schema}
        for name, property_schema in schema.get("properties", {}).items()
    ]


def _schema(body: Any, components: dict[str, Any]) -> dict[str, Any]:
    if isinstance(body, dict):  # a literal JSON schema (e.g. raw bytes)
        return body
    schema = TypeAdapter(body).json_schema(ref_template=REF_TEMPLATE)
    components.update(schema.pop("$defs", {}))
    if isinstance(body, type) and issubclass(body, BaseModel):
        components[body.__name__] = schema
        return {"$ref": REF_TEMPLATE.format(model=body.__name__)}
    return schema
