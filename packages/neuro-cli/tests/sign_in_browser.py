"""A stand-in for the user at a web browser: signs in on our server's login page.

It speaks plain HTTP to the real server, the way a browser submits the form, so the
CLI's login flows can be tested end to end without a display. Two uses:

* imported by ``conftest.py`` (``sign_in``) to read the code of the headless flow;
* run as a program through ``$BROWSER`` (Python's ``webbrowser`` then calls it with the
  URL): ``sign_in_browser.py URL`` signs in as ``$SIGN_IN_USER``/``$SIGN_IN_PASSWORD``
  and follows the redirect to the CLI's local callback, like a real browser would.
"""

import os
import sys
import urllib.parse
import urllib.request
from html.parser import HTMLParser


class _LoginPageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form_action = ""
        self.fields: dict[str, str] = {}
        self.code_parts: list[str] = []
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.form_action = attributes.get("action", "")
        elif tag == "input" and "name" in attributes:
            self.fields[attributes["name"]] = attributes.get("value", "")
        elif attributes.get("id") == "code":
            self._in_code = True

    def handle_endtag(self, tag: str) -> None:
        self._in_code = False

    def handle_data(self, data: str) -> None:
        if self._in_code:
            self.code_parts.append(data)


def _parse(page: str) -> _LoginPageParser:
    parser = _LoginPageParser()
    parser.feed(page)
    return parser


def sign_in(authorize_url: str, username: str, password: str) -> str:
    """Submit the login form found at ``authorize_url``; return the page it leads to."""
    with urllib.request.urlopen(authorize_url, timeout=30) as response:
        login_page = _parse(response.read().decode())
        form_url = urllib.parse.urljoin(response.url, login_page.form_action)
    fields = {**login_page.fields, "username": username, "password": password}
    # urllib follows the 302 to redirect_uri with a GET, as browsers do.
    body = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(form_url, data=body, timeout=30) as response:
        return str(response.read().decode())


def read_code(page: str) -> str:
    """The authorization code shown on the headless flow's page."""
    return "".join(_parse(page).code_parts).strip()


def main(url: str) -> None:
    if urllib.parse.urlsplit(url).path.endswith("/oauth/authorize"):
        sign_in(url, os.environ["SIGN_IN_USER"], os.environ["SIGN_IN_PASSWORD"])
    else:  # e.g. the logout page: just visit it
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()


if __name__ == "__main__":
    main(sys.argv[1])
