"""The storage interface without a server: which locations ucgov can write, the endpoint it uses, file: storage."""

from __future__ import annotations

import pytest

from ucgov import storage
from ucgov.errors import StorageError


def never_asked() -> dict:
    raise AssertionError("credentials were asked for a location that needs none or cannot be written")


@pytest.mark.parametrize(
    ("location", "named"),
    [
        ("gs://bucket/root/models/1/versions/2", "Google Cloud Storage (gs://)"),
        ("abfss://container@account.dfs.core.windows.net/models/1", "Azure Data Lake Storage (abfss://)"),
    ],
)
def test_cloud_storage_not_yet_implemented_is_one_sentence_naming_it(location, named):
    with pytest.raises(StorageError) as refused:
        storage.at(location, vend=never_asked)

    message = str(refused.value)
    assert (
        f"the server stores this model version at {location}, in {named}, where ucgov cannot register runs yet"
        in message
    )
    assert "only file: and s3:// are implemented and tested" in message
    assert message.count(". ") == 0  # one sentence
    assert refused.value.location == location


def test_an_unknown_scheme_says_which_storage_roots_work():
    with pytest.raises(
        StorageError, match="a kind of storage ucgov does not know; give the server's models a file: or s3://"
    ):
        storage.at("hdfs://namenode/models/1", vend=never_asked)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"MLFLOW_S3_ENDPOINT_URL": "http://m"}, "http://m"),
        ({"AWS_ENDPOINT_URL": "http://a", "MLFLOW_S3_ENDPOINT_URL": "http://m"}, "http://a"),
        (
            {"AWS_ENDPOINT_URL_S3": "http://s3", "AWS_ENDPOINT_URL": "http://a", "MLFLOW_S3_ENDPOINT_URL": "http://m"},
            "http://s3",
        ),
        ({"AWS_ENDPOINT_URL_S3": "", "AWS_ENDPOINT_URL": "http://a"}, "http://a"),
    ],
)
def test_the_s3_endpoint_is_the_most_specific_override_set(monkeypatch, env, expected):
    for name in storage.ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert storage.endpoint() == expected


def test_file_storage_puts_a_folder_checks_a_file_and_removes_it(tmp_path):
    model = tmp_path / "model"
    (model / "data").mkdir(parents=True)
    (model / "MLmodel").write_text("flavors: {}\n")
    (model / "data" / "weights.bin").write_bytes(b"\x00\x01")
    target = tmp_path / "server" / "models" / "v 1"
    stored = storage.at(target.as_uri(), vend=never_asked)

    stored.put_folder(model)

    assert stored.has("MLmodel") and (target / "data" / "weights.bin").read_bytes() == b"\x00\x01"
    stored.remove()
    assert not target.exists() and not stored.has("MLmodel")
    stored.remove()  # nothing there is not an error


def test_s3_locations_ask_the_server_for_credentials_once(monkeypatch):
    pytest.importorskip("boto3")
    asked = []
    keys = {"access_key_id": "k", "secret_access_key": "s", "session_token": "t"}
    stored = storage.at(
        "s3://bucket/root/models/1/versions/2", vend=lambda: asked.append(1) or {"aws_temp_credentials": keys}
    )

    assert asked == [1]
    assert (stored.bucket, stored.prefix) == ("bucket", "root/models/1/versions/2")
    frozen = stored._s3._request_signer._credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == ("k", "s", "t")


@pytest.mark.parametrize(
    ("location", "stays"),
    [
        ("file:///srv/uc/models/m1/versions/v1", None),
        ("file:///", "ucgov removes only a folder at least two levels deep"),
        ("file:///tmp", "ucgov removes only a folder at least two levels deep"),
        ("file:///srv/uc/../..", "ucgov removes only a folder at least two levels deep"),
        ("s3://bucket/models/m1", "the server vends only read credentials for a READY version"),
        ("gs://bucket/models/m1", "ucgov removes files only in file: storage"),
    ],
)
def test_which_deleted_files_apply_removes_and_why_others_stay(location, stays):
    why = storage.why_files_stay(location)
    assert (why is None) if stays is None else why.startswith(stays)


def test_removing_a_deleted_versions_files_says_what_happened(tmp_path):
    folder = tmp_path / "models" / "m1" / "versions" / "v1"
    (folder / "data").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    (tmp_path / "models" / "m1" / "versions" / "v10").mkdir()

    said = storage.remove_deleted(folder.as_uri())

    assert said == f"its files at {folder.as_uri()} were removed"
    assert not folder.exists() and (tmp_path / "models" / "m1" / "versions" / "v10").exists()
    assert storage.remove_deleted("s3://bucket/m1").startswith("its files stay at s3://bucket/m1: ")


def test_a_deleted_versions_files_that_cannot_be_removed_are_said_to_stay(tmp_path):
    not_a_folder = tmp_path / "versions" / "v1"
    not_a_folder.parent.mkdir()
    not_a_folder.write_text("a file where the server's folder should be")

    said = storage.remove_deleted(not_a_folder.as_uri())

    assert said.startswith(f"its files could not be removed and stay at {not_a_folder.as_uri()} (cannot remove ")
    assert said.endswith("; remove them by hand")
    assert not_a_folder.exists()


def test_a_file_location_copies_out_every_file_as_a_promotion_reads_its_source(tmp_path):
    source = tmp_path / "models" / "dev" / "versions" / "7"
    (source / "data").mkdir(parents=True)
    (source / "MLmodel").write_text("flavors: {}\n")
    (source / "data" / "weights.bin").write_bytes(b"\x00\x01")
    copied = tmp_path / "scratch"
    copied.mkdir()

    storage.at(source.as_uri(), vend=never_asked).get_folder(copied)

    assert sorted(p.relative_to(copied).as_posix() for p in copied.rglob("*") if p.is_file()) == [
        "MLmodel",
        "data/weights.bin",
    ]
    assert (source / "MLmodel").is_file()  # the source is never changed


def test_a_missing_file_location_is_a_storage_error_naming_it(tmp_path):
    missing = (tmp_path / "gone").as_uri()

    with pytest.raises(StorageError, match=f"cannot copy {missing} to "):
        storage.at(missing, vend=never_asked).get_folder(tmp_path)
