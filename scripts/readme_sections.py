"""Regenerate the generated parts of README.md (between ``<!-- begin:NAME -->`` markers).

``python scripts/readme_sections.py`` rewrites the stage reference from the registry (and the
preset and limits tables); the
benchmark scripts in ``bench/`` call :func:`replace_section` with their own tables. A test
checks that the stage reference in README.md is current.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def replace_section(name: str, body: str, readme: Path = README) -> None:
    """Replace the text between the ``begin:name`` and ``end:name`` markers of ``readme``."""
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(rf"(<!-- begin:{re.escape(name)} -->\n).*?(<!-- end:{re.escape(name)} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{readme}: no <!-- begin:{name} --> ... <!-- end:{name} --> markers")
    readme.write_text(
        pattern.sub(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text), "utf-8"
    )


def section(name: str, readme: Path = README) -> str:
    """The current text between the markers of section ``name``."""
    text = readme.read_text(encoding="utf-8")
    match = re.search(rf"<!-- begin:{re.escape(name)} -->\n(.*?)<!-- end:{re.escape(name)} -->", text, re.S)
    return match.group(1) if match else ""


def stage_reference() -> str:
    """Markdown reference of every registered stage, grouped by category."""
    from pipeline.params import field_specs
    from pipeline.registry import all_stages

    lines: list[str] = []
    category = None
    for stage in all_stages().values():
        if stage.category != category:
            category = stage.category
            lines += [f"#### {category.capitalize()}", ""]
        source = (
            " Reads a second image: the stage named by `source` (default `input`)."
            if stage.takes_source
            else ""
        )
        lines.append(f"**`{stage.name}`** ({stage.heading}) → {stage.returns}. {stage.summary}{source}")
        lines.append("")
        specs = field_specs(stage.params)
        if specs:
            lines += ["| parameter | default | allowed | meaning |", "|---|---|---|---|"]
            for spec in specs:
                meaning = spec.description.replace("|", "\\|")
                if spec.when:  # not offered by the studio, nor searched, when it cannot matter
                    meaning += f" Used {spec.when_text}."
                allowed = spec.allowed.replace("|", "\\|")
                lines.append(f"| `{spec.name}` | `{spec.default!r}` | {allowed} | {meaning} |")
            lines.append("")
    return "\n".join(lines)


def preset_table() -> str:
    """Markdown table of the presets in ``presets/`` with their descriptions."""
    from pipeline.preset import load_preset

    lines = ["| preset | stages | when to use it |", "|---|---|---|"]
    for path in sorted((ROOT / "presets").glob("*.yaml")):
        preset = load_preset(path)
        description = " ".join(preset.description.split()).replace("|", "\\|")
        lines.append(f"| `presets/{path.name}` | {len(preset.stages)} | {description} |")
    return "\n".join(lines)


def limits_table() -> str:
    """Markdown table of the work and memory limits of :mod:`pipeline.limits`."""
    from pipeline.limits import ALL

    lines = ["| limit | default | environment variable |", "|---|---|---|"]
    for limit in ALL:
        default = f"{limit.default:,.0f}" if limit.default >= 1000 else f"{limit.default:g}"
        lines.append(f"| {limit.what} | {default} {limit.unit} | `{limit.env}` |")
    return "\n".join(lines)


if __name__ == "__main__":
    replace_section("stages", stage_reference())
    replace_section("presets", preset_table())
    replace_section("limits", limits_table())
    print(f"updated the stage reference, the preset table and the limits table in {README}")
