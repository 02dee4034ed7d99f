"""Parameter types shared by commands."""

from typing import Any

import click
from yarl import URL


class APIURLType(click.ParamType[URL]):
    """A platform API URL such as ``https://staging.neu.ro/api/v1``."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> URL:
        if isinstance(value, URL):
            return value
        try:
            url = URL(str(value))
        except ValueError as exc:
            self.fail(f"{value!r} is not a URL: {exc}", param, ctx)
        if url.scheme not in ("http", "https") or not url.host:
            self.fail(f"{value!r} is not an http(s) URL with a host", param, ctx)
        return url


API_URL = APIURLType()
