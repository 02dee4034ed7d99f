"""The few HTML pages of the login flow; every interpolated value is HTML-escaped."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

# Sent with every page. The login form must not be framed (clickjacking), the pages run no
# script and load nothing, and a form may only go to the platform or to the loopback callback
# the CLI listens on (Chromium applies form-action to the redirect that follows the login).
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self' http://127.0.0.1:* http://localhost:*"
    ),
    "X-Content-Type-Options": "nosniff",
    # The show-code page's URL carries an authorization code.
    "Referrer-Policy": "no-referrer",
}

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title} · Neuro Platform</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<main>
<h1>{title}</h1>
{body}
</main>
</body>
</html>
"""


def page(title: str, body_html: str) -> str:
    return _PAGE.format(title=escape(title), body=body_html)


def login_page(hidden: Mapping[str, str], error: str | None, user_name: str = "") -> str:
    fields = "\n".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in hidden.items()
    )
    error_html = f'<p id="error" role="alert">{escape(error)}</p>' if error else ""
    return page(
        "Log in",
        f"""{error_html}
<form method="post" action="authorize">
{fields}
<label>User name <input id="username" name="username" autocomplete="username"
  value="{escape(user_name)}" required></label>
<label>Password <input id="password" name="password" type="password"
  autocomplete="current-password" required></label>
<button id="submit" type="submit">Log in</button>
</form>""",
    )


def show_code_page(code: str) -> str:
    return page(
        "Your authorization code",
        f"""<p>Copy this code into the terminal where you ran the login command:</p>
<pre id="code">{escape(code)}</pre>""",
    )


def message_page(title: str, message: str) -> str:
    return page(title, f'<p id="message">{escape(message)}</p>')
