"""Where a model version's files live: put a folder at its storage location, check a file, remove them again.

One small interface (``Storage``) with a ``file:`` and an ``s3://`` implementation. The server
names the location when it creates a version and vends short-lived credentials for it; ucgov
never uses the user's own AWS profile unless the server vends nothing. boto3 is imported only
when an ``s3://`` location is met, so ``--help``, ``validate`` and plans never pay for it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from ucgov.errors import StorageError

Vend = Callable[[], dict]
"""Asks the server for the location's temporary credentials (its TemporaryCredentials answer)."""

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL")
"""Endpoint overrides AWS and MLflow users already set for an S3-compatible store, first one set wins."""

_NOT_YET = {
    "gs": "Google Cloud Storage (gs://)",
    "abfss": "Azure Data Lake Storage (abfss://)",
    "abfs": "Azure Data Lake Storage (abfs://)",
}


class Storage(Protocol):
    """A model version's storage location."""

    location: str

    def put_folder(self, folder: Path) -> None:
        """Copy every file under ``folder`` to the location, keeping relative paths."""

    def get_folder(self, folder: Path) -> None:
        """Copy every file under the location into ``folder``, keeping relative paths (a promotion's source)."""

    def has(self, name: str) -> bool:
        """Whether the file ``name`` (relative to the location) is there."""

    def remove(self) -> None:
        """Remove everything under the location; nothing there is not an error."""


def at(location: str, *, vend: Vend) -> Storage:
    """The storage behind ``location``; ``vend`` is called only where credentials are needed."""
    scheme = urlparse(location).scheme
    if scheme in ("file", ""):
        return FileStorage(location)
    if scheme in ("s3", "s3a"):
        return S3Storage(location, vend())
    if scheme in _NOT_YET:
        raise StorageError(
            f"the server stores this model version at {location}, in {_NOT_YET[scheme]}, where ucgov cannot "
            "register runs yet (only file: and s3:// are implemented and tested); register this run with MLflow "
            "directly, or give the server's models a file: or s3:// storage root",
            location=location,
        )
    raise StorageError(
        f"the server stores this model version at {location}, a kind of storage ucgov does not know; "
        "give the server's models a file: or s3:// storage root",
        location=location,
    )


def why_files_stay(location: str) -> str | None:
    """Why apply leaves the files of a deleted model or READY version at ``location``; None when it removes them.

    ``file:`` folders are removed as registration's clean-up removes them. For ``s3://`` the
    server vends only read credentials once a version is READY (``READ_WRITE_MODEL_VERSION``
    answers 400), and ucgov never falls back on the user's own keys while the server vends.
    """
    scheme = urlparse(location).scheme
    if scheme in ("file", ""):
        shallow = not _removable(FileStorage(location).path)
        return "ucgov removes only a folder at least two levels deep" if shallow else None
    if scheme in ("s3", "s3a"):
        return (
            "the server vends only read credentials for a READY version, so ucgov cannot remove them; "
            "remove them with your own credentials"
        )
    return "ucgov removes files only in file: storage; remove them yourself"


def remove_deleted(location: str) -> str:
    """Remove the files of a model or version the server has just deleted: what happened, in words.

    Never an error: the delete is done, so the next plan would not see them; the words say
    plainly where they stay and why.
    """
    why = why_files_stay(location)
    if why is not None:
        return f"its files stay at {location}: {why}"
    try:
        FileStorage(location).remove()
    except StorageError as exc:
        return f"its files could not be removed and stay at {location} ({exc}); remove them by hand"
    return f"its files at {location} were removed"


def _removable(path: Path) -> bool:
    # a server naming "file:///" or "file:///tmp" must not get a whole tree removed
    return path.is_absolute() and len(path.parts) > 2 and ".." not in path.parts


class FileStorage:
    """A folder this machine shares with the server (``file:`` locations)."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.path = Path(unquote(urlparse(location).path))

    def put_folder(self, folder: Path) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            shutil.copytree(folder, self.path, dirs_exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot copy {folder} to {self.location}: {exc}", location=self.location) from exc

    def get_folder(self, folder: Path) -> None:
        try:
            shutil.copytree(self.path, folder, dirs_exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot copy {self.location} to {folder}: {exc}", location=self.location) from exc

    def has(self, name: str) -> bool:
        return (self.path / name).is_file()

    def remove(self) -> None:
        try:
            shutil.rmtree(self.path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"cannot remove {self.location}: {exc}", location=self.location) from exc


class S3Storage:
    """A prefix in an S3 bucket (or an S3-compatible store at an endpoint override), with vended credentials."""

    def __init__(self, location: str, credentials: dict) -> None:
        parsed = urlparse(location)
        self.location = location
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.endpoint = endpoint()
        self._s3 = _s3_client(credentials.get("aws_temp_credentials"), self.endpoint, self._fail)

    def put_folder(self, folder: Path) -> None:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            key = f"{self.prefix}/{path.relative_to(folder).as_posix()}"
            with self._translated(f"upload {path.name} to"):
                self._s3.upload_file(str(path), self.bucket, key)

    def get_folder(self, folder: Path) -> None:
        with self._translated("download the files at"):
            for batch in self._keys_in_batches():
                for key in batch:
                    relative = key[len(self.prefix) + 1 :]
                    target = (folder / relative).resolve()
                    if not target.is_relative_to(folder.resolve()):  # a key naming ../ must not write outside
                        raise StorageError(f"refusing the key {key} under {self.location}", location=self.location)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    self._s3.download_file(self.bucket, key, str(target))

    def has(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._s3.head_object(Bucket=self.bucket, Key=f"{self.prefix}/{name}")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._fail("check", exc) from exc
        except _boto_errors() as exc:
            raise self._fail("check", exc) from exc
        return True

    def remove(self) -> None:
        with self._translated("remove the files at"):
            for batch in self._keys_in_batches():
                self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch]})

    def _keys_in_batches(self, size: int = 1000) -> Iterator[list[str]]:
        # the trailing slash keeps versions/1 from matching versions/10
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/")
        keys = [o["Key"] for page in pages for o in page.get("Contents", ())]
        for start in range(0, len(keys), size):
            yield keys[start : start + size]

    def _translated(self, what: str) -> _Translated:
        return _Translated(lambda exc: self._fail(what, exc))

    def _fail(self, what: str, exc: BaseException) -> StorageError:
        where = f"the S3 endpoint {self.endpoint}" if self.endpoint else "AWS S3"
        return StorageError(
            f"cannot {what} {self.location} ({type(exc).__name__}: {exc}); check that bucket {self.bucket} exists "
            f"and that {where} is the store the server's storage root names (endpoint overrides: "
            f"{', '.join(ENDPOINT_VARIABLES)})",
            location=self.location,
        )


def endpoint() -> str | None:
    """The S3 endpoint override from the environment, or None for AWS itself."""
    return next((os.environ[v] for v in ENDPOINT_VARIABLES if os.environ.get(v)), None)


class _Translated:
    """Turns boto3's and botocore's errors inside a ``with`` block into a StorageError."""

    def __init__(self, fail: Callable[[BaseException], StorageError]) -> None:
        self._fail = fail

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if exc is not None and isinstance(exc, _boto_errors()):
            raise self._fail(exc) from exc
        return False


def _boto_errors() -> tuple[type[BaseException], ...]:
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    return (Boto3Error, BotoCoreError, ClientError, OSError)


def _s3_client(aws: dict | None, endpoint_url: str | None, fail: Callable[[str, BaseException], StorageError]) -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise StorageError(
            "this model version is stored in S3, and writing there needs boto3: pip install 'ucgov[s3]'"
        ) from exc
    # Vended keys only: a session given keys never falls back to the user's own profile. With no
    # vended keys (a server that vends none) boto3's usual chain applies.
    keys = (
        {
            "aws_access_key_id": aws.get("access_key_id"),
            "aws_secret_access_key": aws.get("secret_access_key"),
            "aws_session_token": aws.get("session_token"),
        }
        if aws
        else {}
    )
    try:
        return boto3.session.Session(**keys).client("s3", endpoint_url=endpoint_url)
    except _boto_errors() as exc:
        raise fail("open", exc) from exc
