"""What becomes of a deleted volume's files is the server's doing, and a plan says which: in file:
storage its delete takes a managed volume's folder, in S3 it leaves the objects (both pinned in
test_server_assets.py), and ucgov never removes a volume's files itself."""

from __future__ import annotations

from ucgov.kinds import Kind
from ucgov.prune import files_going


def test_a_managed_volume_in_file_storage_takes_its_files_with_it():
    files = files_going(Kind.VOLUME, "file:///data/managed/c/volumes/1")
    assert files is not None and files.removed
    assert files.sentence() == "its files at file:///data/managed/c/volumes/1 are removed"


def test_a_managed_volume_in_s3_leaves_its_objects_and_the_plan_says_why():
    files = files_going(Kind.VOLUME, "s3://bucket/managed/c/volumes/1")
    assert files is not None and not files.removed
    assert files.sentence() == (
        "its files stay at s3://bucket/managed/c/volumes/1: the server's delete of a volume leaves them there, "
        "and ucgov does not remove them; remove them yourself"
    )


def test_an_external_volume_has_no_files_that_go_with_it():
    assert Kind.VOLUME.spec.files_at({"volume_type": "EXTERNAL", "storage_location": "s3://b/raw"}) is None
    assert files_going(Kind.VOLUME, None) is None


def test_a_models_files_are_still_removed_by_apply_in_file_storage_and_kept_in_s3():
    assert files_going(Kind.MODEL, "file:///data/models/m").removed
    assert "vends only read credentials" in files_going(Kind.MODEL, "s3://bucket/models/m").why_kept
