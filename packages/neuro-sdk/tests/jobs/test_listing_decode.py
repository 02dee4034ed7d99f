"""Decoding a listing's job objects (docs/protocol.md §3.5) gives, field for field, what it
gave before the decoder took its shortcuts (shared values, URLs without re-quoting, frozen
dataclasses filled without their __init__)."""

import dataclasses
from typing import Any

import pytest
from yarl import URL

from neuro_sdk._images_refs import ImageRefParser
from neuro_sdk._jobs_wire import ListingImages, job_from_api

from .listing_cases import listing_cases
from .listing_expected import EXPECTED


def flat(value: Any, path: str = "job") -> list[str]:
    """Every field as 'path: type repr', containers by length then item by item."""
    if dataclasses.is_dataclass(value) and type(value).__name__ != "RemoteImage":
        lines = [f"{path}: {type(value).__name__}"]
        for field in dataclasses.fields(value):
            lines += flat(getattr(value, field.name), f"{path}.{field.name}")
        return lines
    if isinstance(value, list | tuple):
        lines = [f"{path}: {type(value).__name__} of {len(value)}"]
        for index, item in enumerate(value):
            lines += flat(item, f"{path}[{index}]")
        return lines
    if isinstance(value, dict):
        lines = [f"{path}: {type(value).__name__} of {len(value)}"]
        for key, item in value.items():
            lines += flat(item, f"{path}[{key!r}]")
        return lines
    return [f"{path}: {type(value).__name__} {value!r}"]


CASES = listing_cases()


def test_the_cases_are_the_expected_ones() -> None:
    assert list(CASES) == list(EXPECTED)


@pytest.mark.parametrize("name", list(CASES))
def test_a_job_decodes_as_before(name: str, images: ImageRefParser) -> None:
    assert flat(job_from_api(CASES[name], images)) == EXPECTED[name]


@pytest.mark.parametrize("name", list(CASES))
def test_a_job_in_a_listing_decodes_as_before(name: str, images: ImageRefParser) -> None:
    listing = ListingImages(images)
    # Twice: the second time from whatever the listing remembered of the first.
    first = job_from_api(CASES[name], listing)
    second = job_from_api(CASES[name], listing)
    assert flat(first) == flat(second) == EXPECTED[name]
    assert first == second
    assert hash(first.uri) == hash(URL(CASES[name]["uri"]))


def test_every_url_is_what_yarl_makes_of_the_text(images: ImageRefParser) -> None:
    hostile = CASES["hostile URLs"]
    job = job_from_api(hostile, ListingImages(images))
    texts = [item["src_storage_uri"] for item in hostile["container"]["volumes"]]
    assert [volume.storage_uri for volume in job.container.volumes] == [URL(t) for t in texts]
    assert [str(v.storage_uri) for v in job.container.volumes] == [str(URL(t)) for t in texts]
    assert job.uri == URL(hostile["uri"])
    assert str(job.uri) == str(URL(hostile["uri"]))
    assert str(job.http_url) == str(URL(hostile["http_url_named"]))
    assert job.http_url.host == "name--dave.jobs.example.com"


def test_jobs_of_a_listing_share_their_immutable_parts(images: ImageRefParser) -> None:
    listing = ListingImages(images)
    first = job_from_api(CASES["finished, no org"], listing)
    second = job_from_api(CASES["finished, no org"] | {"id": "job-2"}, listing)
    assert first._internal is second._internal
    assert first.container.image is second.container.image
    # Mutable parts stay each job's own.
    assert first.container.env is not second.container.env
    assert first.container.volumes is not second.container.volumes


def test_flags_that_are_not_booleans_are_kept_as_sent(images: ImageRefParser) -> None:
    job = job_from_api(CASES["minimal"] | {"materialized": 1, "logs_removed": 0}, images)
    assert flat(job._internal) == [
        "job: JobDescriptionInternal",
        "job.materialized: int 1",
        "job.being_dropped: bool False",
        "job.logs_removed: int 0",
    ]
