"""OAuth2 authorization code + PKCE endpoints (docs/protocol.md §2.2-2.4) under `/oauth`."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDict, MultiDictProxy, MultiMapping
from pydantic import BaseModel
from yarl import URL

from ..api.keys import GRANTS, LOGIN_THROTTLE, SETTINGS, USERS
from ..api.openapi import describe
from ..api.pages import PAGE_HEADERS, login_page, message_page, show_code_page
from .client import CLIENT_ID
from .grants import CodeRequest, InvalidGrantError, TokenResponse

# The query of the authorize request that the login form carries through as hidden fields.
AUTHORIZE_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "code_challenge",
    "code_challenge_method",
    "scope",
    "audience",
    "state",
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
HTML = "text/html"

routes = web.RouteTableDef()


class AuthorizeQuery(BaseModel):
    response_type: str | None = None
    client_id: str | None = None
    redirect_uri: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    scope: str | None = None
    audience: str | None = None
    state: str | None = None


class LoginForm(AuthorizeQuery):
    username: str | None = None
    password: str | None = None


class TokenForm(BaseModel):
    grant_type: str | None = None
    client_id: str | None = None
    code: str | None = None
    redirect_uri: str | None = None
    code_verifier: str | None = None
    refresh_token: str | None = None


class CodeQuery(BaseModel):
    code: str | None = None


FORM = "application/x-www-form-urlencoded"


class AuthorizeRequestError(ValueError):
    pass


def _validate_authorize(params: MultiMapping[str], headless_url: tuple[URL, ...]) -> CodeRequest:
    if params.get("response_type") != "code":
        raise AuthorizeRequestError("response_type must be 'code'")
    if params.get("client_id") != CLIENT_ID:
        raise AuthorizeRequestError("unknown client_id")
    if params.get("code_challenge_method") != "S256":
        raise AuthorizeRequestError("code_challenge_method must be 'S256'")
    challenge = params.get("code_challenge", "")
    if not 43 <= len(challenge) <= 128:
        raise AuthorizeRequestError("code_challenge is missing or malformed")
    redirect_uri = params.get("redirect_uri", "")
    if not _allowed_redirect(redirect_uri, headless_url):
        # Never redirect anywhere else: that would hand the code to a foreign site.
        raise AuthorizeRequestError("redirect_uri must be a loopback callback or the code page")
    return CodeRequest(CLIENT_ID, redirect_uri, challenge)


def _allowed_redirect(redirect_uri: str, headless_url: tuple[URL, ...]) -> bool:
    try:
        url = URL(redirect_uri)
    except ValueError:
        return False
    if url in headless_url:
        return True
    return (
        url.scheme == "http"
        and url.host in LOOPBACK_HOSTS
        and url.explicit_port is not None
        and url.path in ("", "/")
        and not url.query_string
        and not url.user
        and not url.fragment
    )


def _headless_url(request: web.Request) -> tuple[URL, ...]:
    """The platform's own pages a code may be sent to: the code page of headless logins and
    the web console's callback (`console/login_handler.py`)."""
    public_url = request.config_dict[SETTINGS].public_url
    return (public_url / "oauth" / "show-code", public_url / "console" / "callback")


async def _text_form(request: web.Request) -> MultiDictProxy[str]:
    """The form's text fields (file parts are never expected here)."""
    form = await request.post()
    return MultiDictProxy(MultiDict((k, v) for k, v in form.items() if isinstance(v, str)))


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type=HTML, headers=PAGE_HEADERS)


@routes.get("/authorize")
@describe("The login page", query=AuthorizeQuery)
async def authorize_form(request: web.Request) -> web.Response:
    try:
        _validate_authorize(request.query, _headless_url(request))
    except AuthorizeRequestError as e:
        return _html(message_page("Login request refused", str(e)), status=400)
    hidden = {k: request.query[k] for k in AUTHORIZE_FIELDS if k in request.query}
    return _html(login_page(hidden, error=None))


@routes.post("/authorize")
@describe("Log in: answers a redirect with a code", body=LoginForm, media_type=FORM)
async def authorize_submit(request: web.Request) -> web.Response:
    text_params = await _text_form(request)
    try:
        code_request = _validate_authorize(text_params, _headless_url(request))
    except AuthorizeRequestError as e:
        return _html(message_page("Login request refused", str(e)), status=400)
    user_name = text_params.get("username", "")
    hidden = {k: text_params[k] for k in AUTHORIZE_FIELDS if k in text_params}
    throttle = request.config_dict[LOGIN_THROTTLE]
    address = request.remote or ""
    # Throttled: the password is not even checked, so guessing on gains nothing.
    if (wait_s := throttle.retry_after_s(user_name, address)) is not None:
        message = f"Too many failed logins. Try again in {wait_s} s."
        response = _html(login_page(hidden, message, user_name), status=429)
        response.headers["Retry-After"] = str(wait_s)
        return response
    user = await request.config_dict[USERS].authenticate(user_name, text_params.get("password", ""))
    if user is None:
        throttle.failed(user_name, address)
        return _html(login_page(hidden, "Wrong user name or password.", user_name), status=401)
    code = await request.config_dict[GRANTS].create_code(user.name, code_request)
    query = {"code": code}
    if "state" in text_params:
        query["state"] = text_params["state"]
    raise web.HTTPFound(URL(code_request.redirect_uri).with_query(query))


@routes.post("/token")
@describe("Exchange a code or a refresh token", body=TokenForm, media_type=FORM)
async def token(request: web.Request) -> web.Response:
    fields = await _text_form(request)
    grants = request.config_dict[GRANTS]
    grant_type = fields.get("grant_type")
    try:
        if fields.get("client_id") != CLIENT_ID:
            raise InvalidGrantError("unknown client_id")
        if grant_type == "authorization_code":
            response = await grants.exchange_code(
                fields.get("code", ""),
                client_id=fields["client_id"],
                redirect_uri=fields.get("redirect_uri", ""),
                code_verifier=fields.get("code_verifier", ""),
            )
        elif grant_type == "refresh_token":
            response = await grants.refresh(fields.get("refresh_token", ""))
        else:
            return _oauth_error("unsupported_grant_type", f"grant_type {grant_type!r}")
    except InvalidGrantError as e:
        return _oauth_error("invalid_grant", str(e))
    return web.json_response(_token_json(response), headers={"Cache-Control": "no-store"})


def _token_json(response: TokenResponse) -> dict[str, object]:
    body: dict[str, object] = {
        "access_token": response.access_token,
        "expires_in": response.expires_in,
        "token_type": "Bearer",
    }
    if response.refresh_token is not None:
        body["refresh_token"] = response.refresh_token
    return body


def _oauth_error(error: str, description: str) -> web.Response:
    return web.json_response(
        {"error": error, "error_description": description},
        status=400,
        headers={"Cache-Control": "no-store"},
    )


@routes.get("/show-code")
@describe("Shows a code for headless login", query=CodeQuery)
async def show_code(request: web.Request) -> web.Response:
    return _html(show_code_page(request.query.get("code", "")))


@routes.get("/logout")
async def logout(request: web.Request) -> web.Response:
    return _html(message_page("Logged out", "You have been logged out of the Neuro Platform."))


@routes.get("/login-done")
async def login_done(request: web.Request) -> web.Response:
    return _html(message_page("Logged in", "You are logged in. You may close this tab."))
