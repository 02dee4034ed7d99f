"""The platform's credentials, kept out of what the proxy passes between a browser and a job.

The proxy's own cookie, `neuro-job-auth`, holds the platform token a user presented once (as
`?neuro-auth-token=`) to a job host that requires auth. The browser keeps it for that one host
only (no `Domain`), sends it on top-level navigations from elsewhere but not on cross-site
subrequests (`SameSite=Lax`), and page scripts cannot read it (`HttpOnly`). The proxy strips it,
and the platform's `neuro-auth-token`, from every request before a job sees it, and drops a
job's attempts to set either.
"""

from __future__ import annotations

from ..auth.identity import TOKEN_QUERY_PARAMETER

PROXY_COOKIE = "neuro-job-auth"
# Compared case-insensitively: a job must not slip `Neuro-Auth-Token` past the filter.
PLATFORM_COOKIES = frozenset({TOKEN_QUERY_PARAMETER, PROXY_COOKIE})


def _is_platform_cookie(name: str) -> bool:
    return name.strip().lower() in PLATFORM_COOKIES


def without_platform_cookies(cookie_header: str) -> str | None:
    """A `Cookie` header without the platform's pairs (None when nothing is left).

    Split by hand, not with `http.cookies`, which drops pairs it cannot parse: a job's own
    cookies must arrive exactly as the browser sent them."""
    kept = [
        pair.strip()
        for pair in cookie_header.split(";")
        if pair.strip() and not _is_platform_cookie(pair.partition("=")[0])
    ]
    return "; ".join(kept) or None


def sets_platform_cookie(set_cookie_header: str) -> bool:
    """Whether a job's `Set-Cookie` would set (or clear) one of the platform's cookies."""
    return _is_platform_cookie(set_cookie_header.partition("=")[0])
