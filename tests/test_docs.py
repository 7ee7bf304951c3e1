"""README stays true: the generated stage reference matches the registry; the CLI is documented."""

from __future__ import annotations

from scripts.readme_sections import README, limits_table, preset_table, section, stage_reference


def test_stage_reference_is_current() -> None:
    assert section("stages").strip() == stage_reference().strip(), (
        "README's stage reference is stale: run `python scripts/readme_sections.py`"
    )


def test_preset_table_is_current() -> None:
    assert section("presets").strip() == preset_table().strip(), (
        "README's preset table is stale: run `python scripts/readme_sections.py`"
    )


def test_limits_table_is_current() -> None:
    assert section("limits").strip() == limits_table().strip(), (
        "README's limits table is stale: run `python scripts/readme_sections.py`"
    )


def test_readme_quick_start_and_cli() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text
    for command in (
        "clarity run",
        "clarity eval",
        "--scheduler",
        "--clarity-preset",
        "python -m pipeline run",
        "python -m pipeline eval",
        "python -m pipeline check",
        "stages",
    ):
        assert command in text


def test_ci_runs_the_readme_test_command() -> None:
    ci = (README.parent / ".ci" / "run").read_text()
    assert "make test" in ci
