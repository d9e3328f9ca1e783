"""Storage locations as the 0.6.0 server keeps them (pinned in test_server_assets.py): a spec's
location compares equal to the server's whatever way of writing the same place it uses."""

from __future__ import annotations

import pytest

from ucgov.kinds import Kind
from ucgov.kinds.base import location

WRITTEN_AND_KEPT = [
    ("/data/raw", "file:///data/raw"),
    ("/data/raw/", "file:///data/raw"),
    ("file:///data/raw/", "file:///data/raw"),
    ("file:/data/raw", "file:///data/raw"),
    ("file:///data//raw", "file:///data/raw"),
    ("file:///data/./raw", "file:///data/raw"),
    ("file:///data/x/../raw", "file:///data/raw"),
    ("file://localhost/data", "file:///localhost/data"),  # the server reads the host as part of the path
    ("file:///data/a%20b", "file:///data/a%20b"),
    ("s3://bucket/p/", "s3://bucket/p"),
    ("s3://bucket//p/./q/", "s3://bucket/p/q"),
    ("s3://bucket/p/../q", "s3://bucket/q"),
    ("s3://Bucket/P", "s3://Bucket/P"),
]


@pytest.mark.parametrize(("written", "kept"), WRITTEN_AND_KEPT)
def test_a_location_is_compared_as_the_server_keeps_it(written, kept):
    assert location(written) == kept


@pytest.mark.parametrize("odd", ["relative/path", "S3://b/p", "C:/x", "", None, 3])
def test_what_the_server_would_not_keep_as_written_is_left_alone(odd):
    assert location(odd) == odd


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (Kind.CATALOG, "storage_root"),
        (Kind.SCHEMA, "storage_root"),
        (Kind.VOLUME, "storage_location"),
        (Kind.TABLE, "storage_location"),
    ],
)
def test_every_kind_compares_its_locations_as_the_server_keeps_them(kind, field):
    assert kind.spec.written(field, "/data/raw/") == "file:///data/raw"
    assert kind.spec.written("comment", "/data/raw/") == "/data/raw/"
