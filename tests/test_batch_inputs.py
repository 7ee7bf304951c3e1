"""Finding a batch's inputs: folder walks, output names that never clash, PDF pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.batch.inputs import collect, is_input_file, walk
from pipeline.errors import ImageError


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_walk_is_recursive_sorted_and_skips_ground_truth_hidden_and_output(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for name in ("b/2.png", "a/z.jpg", "a/c/1.tif", "top.pdf", "a/x.gt.png", ".hidden.png", "notes.txt"):
        touch(root / name)
    touch(root / ".cache" / "y.png")
    touch(root / "out" / "old.png")
    found = [p.relative_to(root).as_posix() for p in walk(root, skip=root / "out")]
    assert found == ["a/c/1.tif", "a/z.jpg", "b/2.png", "top.pdf"]


@pytest.mark.parametrize(
    ("name", "taken"),
    [("a.PNG", True), ("a.pdf", True), ("a.gt.png", False), ("a.gt.txt", False), (".a.png", False)],
)
def test_is_input_file(name: str, taken: bool) -> None:
    assert is_input_file(Path(name)) is taken


def test_names_mirror_folders_and_file_arguments_keep_their_name(tmp_path: Path) -> None:
    touch(tmp_path / "in" / "x" / "scan.png")
    touch(tmp_path / "in" / "y" / "scan.png")
    single = touch(tmp_path / "elsewhere" / "one.png")
    items, problems = collect([tmp_path / "in", single])
    assert problems == []
    assert [i.rel for i in items] == ["x/scan", "y/scan", "one"]


def test_clashing_names_take_the_path_from_the_common_folder(tmp_path: Path) -> None:
    a = touch(tmp_path / "a" / "scan.png")
    b = touch(tmp_path / "b" / "scan.png")
    c = touch(tmp_path / "b" / "scan.jpg")
    items, _ = collect([a, b, c, a])  # a named twice: read once
    assert [i.rel for i in items] == ["a/scan", "b/scan.png", "b/scan.jpg"]
    assert len({i.rel for i in items}) == len(items)


def test_pdfs_become_one_item_per_page_and_bad_pdfs_are_problems(tmp_path: Path) -> None:
    doc = touch(tmp_path / "d" / "doc.pdf")
    bad = touch(tmp_path / "d" / "bad.pdf")

    def pages(path: Path) -> int:
        if path.name == "bad.pdf":
            raise ImageError(f"{path}: cannot be read as a PDF")
        return 3

    items, problems = collect([tmp_path / "d"], count_pages=pages)
    assert [(i.rel, i.page, i.pages) for i in items] == [
        ("doc/page-0001", 1, 3),
        ("doc/page-0002", 2, 3),
        ("doc/page-0003", 3, 3),
    ]
    assert items[0].path == doc and items[0].document_rel == "doc"
    assert problems == [(bad, f"{bad}: cannot be read as a PDF")]


def test_a_missing_file_is_still_an_input(tmp_path: Path) -> None:
    items, problems = collect([tmp_path / "missing.png"])
    assert [i.rel for i in items] == ["missing"] and problems == []
