"""The job proxy's rules that need no job: which hosts are jobs', where a job's URL points,
which cookies are the platform's, the `[jobs] http_domain` setting and the access log's
redaction of tokens. The same rules are exercised end to end in `jobs/test_job_http_proxy.py`."""

from __future__ import annotations

from pathlib import Path

import pytest
from yarl import URL

from neuro_platform.api.access_log import redact_token
from neuro_platform.jobs.host_names import http_url, job_label
from neuro_platform.proxy.cookies import sets_platform_cookie, without_platform_cookies
from neuro_platform.settings import SettingsError, load_settings

DOMAIN = "jobs.localhost"


@pytest.mark.parametrize(
    ("host", "label"),
    [
        ("web--alice.jobs.localhost:8080", "web--alice"),
        ("Web--Alice.JOBS.localhost", "web--alice"),
        ("job-0b1e7f5c.jobs.localhost", "job-0b1e7f5c"),
        # Not a job host: the platform's own names, deeper names, look-alikes.
        ("127.0.0.1:8080", None),
        ("jobs.localhost", None),
        ("a.b.jobs.localhost", None),
        ("web--alice.jobs.localhost.evil.org", None),
        ("web--alice.xjobs.localhost", None),
        ("[::1]:8080", None),
        ("-bad.jobs.localhost", None),
    ],
)
def test_only_one_label_below_the_domain_names_a_job(host: str, label: str | None) -> None:
    assert job_label(host, DOMAIN) == label


def test_http_url_is_a_host_of_its_own_with_the_public_urls_scheme_and_port() -> None:
    assert str(http_url(URL("http://127.0.0.1:8080"), DOMAIN, "web--alice")) == (
        "http://web--alice.jobs.localhost:8080"
    )
    assert str(http_url(URL("https://neuro.example.org/x"), "jobs.example.net", "job-1")) == (
        "https://job-1.jobs.example.net"
    )


def test_platform_cookies_are_stripped_and_the_jobs_own_kept_as_sent() -> None:
    header = "theirs=1; neuro-auth-token=T; Neuro-Job-Auth=P;odd; x=a=b"
    assert without_platform_cookies(header) == "theirs=1; odd; x=a=b"
    assert without_platform_cookies("neuro-auth-token=T; neuro-job-auth=P") is None


@pytest.mark.parametrize(
    ("set_cookie", "dropped"),
    [
        ("neuro-auth-token=from-job; Path=/", True),
        ("NEURO-AUTH-TOKEN=x", True),
        (" neuro-job-auth=x; Domain=jobs.localhost", True),
        ("neuro-auth-token-not=x", False),
        ("session=neuro-auth-token", False),
    ],
)
def test_a_jobs_set_cookie_for_a_platform_name_is_dropped(set_cookie: str, dropped: bool) -> None:
    assert sets_platform_cookie(set_cookie) is dropped


def test_http_domain_setting(tmp_path: Path) -> None:
    defaults = load_settings(None, env={"XDG_DATA_HOME": str(tmp_path)})
    assert defaults.jobs.http_domain == DOMAIN
    config = tmp_path / "platform.toml"
    config.write_text('[jobs]\nhttp_domain = "jobs.example.net"\n')
    assert load_settings(config, env={}).jobs.http_domain == "jobs.example.net"
    for bad in ("*.jobs.example.net", "localhost", "Jobs.Example.net", "jobs.example.net:80", ""):
        config.write_text(f'[jobs]\nhttp_domain = "{bad}"\n')
        with pytest.raises(SettingsError, match="http_domain"):
            load_settings(config, env={})


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "GET /api/v1/jobs/j/exec?cmd=ls&neuro-auth-token=a.b.c&tty=1 HTTP/1.1",
            "GET /api/v1/jobs/j/exec?cmd=ls&neuro-auth-token=REDACTED&tty=1 HTTP/1.1",
        ),
        # aiohttp decodes parameter names: an encoded name is still the token.
        (
            "GET /?neuro%2Dauth%2Dtoken=a.b.c HTTP/1.1",
            "GET /?neuro%2Dauth%2Dtoken=REDACTED HTTP/1.1",
        ),
        ("http://h/p?x=1&neuro-auth-token=a.b.c#f", "http://h/p?x=1&neuro-auth-token=REDACTED#f"),
        ("GET /?q=neuro-auth-token=1 HTTP/1.1", "GET /?q=neuro-auth-token=1 HTTP/1.1"),
    ],
)
def test_access_log_redacts_the_token_query_value(line: str, expected: str) -> None:
    assert redact_token(line) == expected
