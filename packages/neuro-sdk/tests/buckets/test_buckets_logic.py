"""Pure rules of the Buckets API: glob over keys, keys of URIs, safe download paths."""

from datetime import UTC, datetime

import pytest
from yarl import URL

import neuro_sdk
from neuro_sdk._buckets_glob import ancestors, literal_prefix, matches
from neuro_sdk._buckets_transfer import is_safe_relative


def bucket(name: str | None = "data", org: str | None = None) -> neuro_sdk.Bucket:
    return neuro_sdk.Bucket(
        id="bucket-1234",
        owner="alice",
        cluster_name="default",
        org_name=org,
        provider=neuro_sdk.Bucket.Provider.MINIO,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        imported=False,
        name=name,
    )


@pytest.mark.parametrize(
    ("key", "pattern", "expected"),
    [
        ("a/b.txt", "a/*.txt", True),
        ("a/c/b.txt", "a/*.txt", False),  # "*" stays within one part
        ("a/c/b.txt", "a/**/*.txt", True),
        ("a/b.txt", "a/**/*.txt", True),  # "**" matches no part too
        ("a/b.bin", "a/**/*.txt", False),
        ("a/", "*", True),  # a folder matches by its name
        ("A/b.txt", "a/*", False),  # keys are case-sensitive
        ("a/x1", "a/x[0-9]", True),
        ("a/x?", "a/x[?]", True),
        ("a/xy", "a/x?", True),
        ("a/xyz", "a/x?", False),
    ],
)
def test_glob_matching(key: str, pattern: str, expected: bool) -> None:
    assert matches(key, pattern) is expected


def test_glob_lists_only_below_the_literal_part() -> None:
    assert literal_prefix("folder/sub/*.txt") == "folder/sub/"
    assert literal_prefix("folder/**/x") == "folder/"
    assert literal_prefix("*.txt") == ""
    assert literal_prefix("plain/key") == "plain/key"
    assert literal_prefix("fo*/x") == ""


def test_ancestors_of_a_key_are_its_folders() -> None:
    assert list(ancestors("a/b/c.txt")) == ["a/", "a/b/"]
    assert list(ancestors("a/b/")) == ["a/"]
    assert list(ancestors("top")) == []


@pytest.mark.parametrize(
    ("relative", "safe"),
    [
        ("a/b.txt", True),
        ("b.txt", True),
        ("../evil", False),
        ("a/../../evil", False),
        ("/abs", False),
        ("a//b", False),
        ("./a", False),
        ("..", False),
    ],
)
def test_download_paths_never_leave_the_target(relative: str, safe: bool) -> None:
    assert is_safe_relative(relative) is safe


def test_bucket_uri_and_keys_by_name_and_by_id() -> None:
    named = bucket()
    assert named.uri == URL("blob://default/alice/data")
    assert named.get_key_for_uri(URL("blob://default/alice/data/x/y.txt")) == "x/y.txt"
    assert named.get_key_for_uri(URL("blob://default/alice/bucket-1234/x")) == "x"
    assert named.get_key_for_uri(URL("blob://default/alice/data")) == ""
    assert bucket(org="team").uri == URL("blob://default/team/alice/data")
    assert bucket(name=None).uri == URL("blob://default/alice/bucket-1234")


def test_a_uri_of_another_bucket_has_no_key_here() -> None:
    with pytest.raises(ValueError, match="not in bucket"):
        # "data2" starts like "data": a prefix of the text is not enough.
        bucket().get_key_for_uri(URL("blob://default/alice/data2/x"))


def test_entries_tell_files_from_folders() -> None:
    owner = bucket()
    assert neuro_sdk.BlobObject(key="a/", bucket=owner, size=0).is_dir()
    assert neuro_sdk.BlobObject(key="a/b", bucket=owner, size=0).is_file()
    prefix = neuro_sdk.BlobCommonPrefix(key="a/b/", bucket=owner, size=0)
    assert prefix.is_dir()
    assert not prefix.is_file()
    assert prefix.uri == URL("blob://default/alice/data/a/b/")
    assert neuro_sdk.BlobObject(key="a/b.txt", bucket=owner, size=3).name == "b.txt"
