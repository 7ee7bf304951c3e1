"""Uploads kept for share links: content-addressed, bounded by count, bytes and age."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from studio import image_store


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLARITY_IMAGE_STORE", str(tmp_path / "store"))
    return tmp_path / "store"


def test_an_upload_comes_back_by_its_reference_and_its_name_is_never_a_path(store: Path) -> None:
    ref = image_store.put(b"pixels", "../../etc/passwd")
    assert image_store.REF.match(ref) and ref == image_store.reference(b"pixels")
    assert image_store.get(ref) == (b"pixels", "passwd")
    assert [p.name for p in store.iterdir() if p.suffix == ".bin"] == [f"{ref}.bin"]
    assert image_store.put(b"pixels", "again.png") == ref  # same bytes, same file
    assert len(list(store.glob("*.bin"))) == 1


def test_malformed_unknown_or_damaged_references_give_nothing(store: Path) -> None:
    assert image_store.get("../../etc/passwd") is None
    assert image_store.get("0" * 32) is None
    ref = image_store.put(b"pixels", "a.png")
    (store / f"{ref}.bin").write_bytes(b"changed on disk")
    assert image_store.get(ref) is None


def test_the_least_recently_used_go_when_the_count_or_bytes_limit_is_reached(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLARITY_STORE_IMAGES", "2")
    first, second = image_store.put(b"one", "1"), image_store.put(b"two", "2")
    os.utime(store / f"{second}.bin", (time.time() - 60, time.time() - 60))  # used longer ago
    third = image_store.put(b"three", "3")
    assert image_store.get(second) is None and image_store.get(first) and image_store.get(third)
    monkeypatch.setenv("CLARITY_STORE_IMAGES", "100")
    monkeypatch.setenv("CLARITY_STORE_MB", "0.000005")  # about 5 bytes
    image_store.put(b"four", "4")
    assert len(list(store.glob("*.bin"))) == 1


def test_images_older_than_the_age_limit_are_removed(store: Path) -> None:
    old = image_store.put(b"old", "old.png")
    ten_days = time.time() - 10 * 86400
    os.utime(store / f"{old}.bin", (ten_days, ten_days))
    image_store.put(b"new", "new.png")  # every put clears expired images first
    assert image_store.get(old) is None and not (store / f"{old}.name").exists()
