"""The manifest: records, what a resumed batch may skip, and surviving a crash mid-line."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pipeline.batch.manifest import (
    FIELDS,
    ManifestWriter,
    completed,
    make_record,
    preset_digest,
    read_records,
)
from pipeline.preset import parse_preset

PRESET = "schema_version: 1\nstages: [grayscale]\nocr: {psm: 7}\n"


def test_digest_follows_stages_and_ocr_but_not_the_name() -> None:
    base = parse_preset(PRESET)
    assert preset_digest(base) == preset_digest(parse_preset("name: other\n" + PRESET))
    assert preset_digest(base) != preset_digest(parse_preset(PRESET.replace("psm: 7", "psm: 6")))
    assert preset_digest(base) != preset_digest(parse_preset(PRESET.replace("[grayscale]", "[invert]")))


def test_records_have_every_field_in_order() -> None:
    record = make_record(Path("a.png"), None, "d", text="hi", confidence=91.234, engine="e", ms=12.345)
    assert tuple(record) == FIELDS
    assert record["confidence"] == 91.23 and record["ms"] == 12.3 and record["error"] is None


def test_completed_needs_same_preset_no_error_and_existing_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    for name in ("a/ok.txt", "a/ok.png", "a/old.txt", "a/old.png"):
        (out / name).write_text("x")
    manifest = out / "manifest.jsonl"
    with ManifestWriter(manifest, append=False) as writer:

        def outputs(stem: str) -> dict[str, str]:
            return {"text": f"a/{stem}.txt", "image": f"a/{stem}.png"}

        writer.write(make_record("in/ok.png", None, "D", outputs=outputs("ok")))
        writer.write(make_record("in/old.png", None, "OLD", outputs=outputs("old")))
        writer.write(make_record("in/bad.png", None, "D", error="in/bad.png: broken"))
        writer.write(make_record("in/gone.png", None, "D", outputs=outputs("gone")))
        writer.write(make_record("doc.pdf", 2, "D", outputs=outputs("ok")))
    done = completed(manifest, "D", out, ("image", "text"))
    assert done == {(os.path.abspath("in/ok.png"), None), (os.path.abspath("doc.pdf"), 2)}
    assert completed(manifest, "D", out, ("image", "text", "pdf")) == set()  # asked for PDFs now


def test_a_truncated_last_line_is_skipped_and_appending_starts_a_new_line(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.jsonl"
    first = make_record("a.png", None, "D", text="one")
    manifest.write_text(json.dumps(first) + "\n" + '{"input": "b.png", "page": nu', encoding="utf-8")
    assert list(read_records(manifest)) == [first]
    with ManifestWriter(manifest, append=True) as writer:
        writer.write(make_record("c.png", None, "D", text="three"))
    assert [r["input"] for r in read_records(manifest)] == ["a.png", "c.png"]


def test_a_new_batch_starts_a_new_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text(json.dumps(make_record("old.png", None, "D")) + "\n")
    with ManifestWriter(manifest, append=False) as writer:
        writer.write(make_record("new.png", None, "D"))
    assert [r["input"] for r in read_records(manifest)] == ["new.png"]
    assert list(read_records(tmp_path / "missing.jsonl")) == []
