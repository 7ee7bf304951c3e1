"""Where the studio's images and presets come from, and where presets are saved.

Folders (read on every call, so tests can point them elsewhere):

* shipped presets: ``$CLARITY_PRESETS_DIR``, else ``presets/`` beside ``app.py``; the page never
  writes there, and new visitors always start from them;
* saved presets: ``$CLARITY_USER_PRESETS_DIR``, else ``user-presets/`` beside ``app.py``: where
  the page's Save button writes;
* samples: ``$CLARITY_SAMPLES_DIR``, else ``samples/``, indexed by ``samples.yaml``: a list of
  ``{file, title, scenario, preset, expected}``. Without an index every image in the folder
  is a sample; without images the studio generates one.

Nothing here calls Streamlit.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from pipeline.batch import pdfpages
from pipeline.cache import image_digest
from pipeline.errors import ClarityError, ImageError, PresetError
from pipeline.imageio import SUFFIXES, count_pages, read_image
from pipeline.preset import Preset, load_preset, preset_from_data
from pipeline.preview import preview_factor, reduce
from pipeline.registry import all_stages
from pipeline.shipped import presets_folder

ROOT = Path(__file__).resolve().parents[1]
GENERATED = "generated"
"""``Sample.file`` of the built-in generated sample."""


def presets_dir() -> Path:
    """The folder of shipped presets (``$CLARITY_PRESETS_DIR``, else the shipped ``presets/``);
    read-only from the page."""
    return Path(os.environ.get("CLARITY_PRESETS_DIR") or presets_folder())


def user_presets_dir() -> Path:
    """The folder the page saves presets to (``$CLARITY_USER_PRESETS_DIR`` or ``user-presets/``)."""
    return Path(os.environ.get("CLARITY_USER_PRESETS_DIR") or ROOT / "user-presets")


def samples_dir() -> Path:
    """The folder of sample images (``$CLARITY_SAMPLES_DIR`` or ``samples/``)."""
    return Path(os.environ.get("CLARITY_SAMPLES_DIR") or ROOT / "samples")


# ------------------------------------------------------------------------------- presets


def list_presets(folder: Path | None = None) -> dict[str, Path]:
    """Preset files of ``folder`` (default: the shipped presets) by name (file stem), sorted by name."""
    folder = folder or presets_dir()
    if not folder.is_dir():
        return {}
    files = [p for p in folder.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.is_file()]
    return {p.stem: p for p in sorted(files, key=lambda p: p.stem)}


def all_presets() -> dict[str, Path]:
    """What the preset picker offers: the shipped presets, then the saved ones (a saved file named
    like a shipped preset is left out: the shipped one always wins)."""
    shipped = list_presets()
    saved = {n: p for n, p in list_presets(user_presets_dir()).items() if n not in shipped}
    return {**shipped, **saved}


def builtin_preset() -> Preset:
    """A sensible starting preset when no preset file exists: gray, denoise, threshold, despeckle."""
    wanted: list[dict[str, Any]] = [
        {"stage": "grayscale"},
        {"stage": "median_blur", "params": {"ksize_w": 3, "ksize_h": 3}},
        {"stage": "threshold", "params": {"method": "sauvola", "window": 31, "k": 0.2}},
        {"stage": "component_filter", "params": {"min_area": 6}},
    ]
    known = all_stages()
    stages = [s for s in wanted if s["stage"] in known]
    return preset_from_data(
        {
            "schema_version": 1,
            "name": "starter",
            "description": "Gray, light denoise, local threshold, remove specks.",
            "stages": stages,
            "ocr": {"lang": "eng", "psm": 6},
        },
        "built-in preset",
    )


def default_preset() -> tuple[Preset, str | None]:
    """The first preset file that loads and its name, else :func:`builtin_preset` and ``None``."""
    for name, path in list_presets().items():
        try:
            return load_preset(path), name
        except PresetError:
            continue
    return builtin_preset(), None


_SLUG_BAD = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """``"My Preset 2!"`` -> ``"my-preset-2"``: lower case, runs of other characters -> ``-``."""
    return _SLUG_BAD.sub("-", text.lower()).strip("-")[:60].strip("-")


class SaveError(ClarityError):
    """A preset cannot be saved under the requested name (message shown as is)."""


def save_target(name: str, folder: Path | None = None) -> Path:
    """The file a preset named ``name`` is saved to; :class:`SaveError` for unsafe names.

    Names with a path (``/``, ``\\``, ``..``) are refused outright rather than silently
    rewritten; other names are reduced to ``[a-z0-9-]`` (see :func:`slugify`).
    """
    folder = (folder or user_presets_dir()).resolve()
    raw = name.strip()
    if not raw:
        raise SaveError("Give the preset a file name first.")
    if "/" in raw or "\\" in raw or ".." in raw or raw.startswith(".") or "\x00" in raw:
        raise SaveError(
            f"{raw!r} is not a valid preset file name: it must not contain '/', '\\' or '..'. "
            "Use letters, digits and dashes."
        )
    stem = slugify(raw.removesuffix(".yaml").removesuffix(".yml"))
    if not stem:
        raise SaveError(f"{raw!r} has no letters or digits; use letters, digits and dashes.")
    target = (folder / f"{stem}.yaml").resolve()
    if target.parent != folder:  # pragma: no cover - impossible after slugify, kept as a guard
        raise SaveError(f"{raw!r} would be saved outside the presets folder.")
    return target


def save_preset_file(preset: Preset, name: str, *, overwrite: bool, folder: Path | None = None) -> Path:
    """Write ``preset`` as ``<folder>/<slug>.yaml`` (default: the user presets folder); refuses to
    replace a file unless ``overwrite``, and never takes the name of a shipped preset.

    Raises
    ------
    SaveError
        Unsafe or empty name, a shipped preset's name, existing file without ``overwrite``, or a
        write failure.
    """
    target = save_target(name, folder or user_presets_dir())
    if target.stem in list_presets():
        raise SaveError(
            f"'{target.stem}' is a shipped preset, which cannot be replaced from the page; "
            f"save under another name, e.g. '{target.stem}-2'."
        )
    if target.exists() and not overwrite:
        raise SaveError(
            f"A preset named '{target.stem}' already exists. Tick 'Replace the existing file' to "
            "overwrite it, or choose another name."
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        text = preset.to_yaml()
        if overwrite:
            target.write_text(text, encoding="utf-8")
        else:
            with target.open("x", encoding="utf-8") as fh:  # never replaces a file created meanwhile
                fh.write(text)
    except FileExistsError:
        raise SaveError(f"A preset named '{target.stem}' was just created by someone else.") from None
    except OSError as exc:
        raise SaveError(f"Cannot write {target.name}: {exc.strerror}") from None
    return target


# ------------------------------------------------------------------------------- samples


@dataclass(frozen=True)
class Sample:
    """One sample image offered on the page."""

    file: str
    title: str
    scenario: str
    preset: Any = None
    expected: str = ""

    @property
    def label(self) -> str:
        """What the sample picker shows."""
        if self.title and self.scenario and self.title.lower() != self.scenario.lower():
            return f"{self.scenario} — {self.title}"
        return self.title or self.scenario or self.file


def _images_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)


def load_samples(folder: Path | None = None) -> list[Sample]:
    """Every sample of the samples folder (see the module docstring); never empty, never raises.

    Read again only when the folder or its index changed (every rerun of the page asks).
    """
    folder = folder or samples_dir()
    return list(_samples_of(folder, _stamp(folder)))


def _stamp(folder: Path) -> tuple[tuple[int, int] | None, ...]:
    """What changes when the samples do: the folder's and its index's modification time and size."""
    out: list[tuple[int, int] | None] = []
    for path in (folder, folder / "samples.yaml"):
        try:
            info = path.stat()
            out.append((info.st_mtime_ns, info.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


@functools.lru_cache(maxsize=8)
def _samples_of(folder: Path, stamp: tuple[tuple[int, int] | None, ...]) -> tuple[Sample, ...]:
    """The samples of ``folder`` as :func:`load_samples` describes; ``stamp`` only keys the cache."""
    index = folder / "samples.yaml"
    samples: list[Sample] = []
    if index.is_file():
        try:
            raw = yaml.safe_load(index.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            raw = None
        if isinstance(raw, dict):  # tolerate {samples: [...]}
            raw = raw.get("samples")
        for item in raw if isinstance(raw, list) else []:
            if not isinstance(item, dict) or not isinstance(item.get("file"), str):
                continue
            if not (folder / item["file"]).is_file():
                continue
            expected = item.get("expected") or ""
            samples.append(
                Sample(
                    file=item["file"],
                    title=str(item.get("title") or Path(item["file"]).stem),
                    scenario=str(item.get("scenario") or ""),
                    preset=item.get("preset"),
                    expected=expected if isinstance(expected, str) else str(expected),
                )
            )
    if not samples:
        samples = [Sample(p.name, p.stem.replace("_", " "), "") for p in _images_in(folder)]
    if not samples:
        samples = [Sample(GENERATED, "generated noisy label", "demo", None, GENERATED_TEXT)]
    return tuple(samples)


def one_per_scenario(samples: list[Sample]) -> list[Sample]:
    """The first sample of each scenario, in index order (samples without scenario all kept)."""
    seen: set[str] = set()
    out = []
    for s in samples:
        if s.scenario and s.scenario in seen:
            continue
        seen.add(s.scenario)
        out.append(s)
    return out


def sample_preset(sample: Sample, folder: Path | None = None) -> Preset:
    """The preset a sample names (a preset name, a path, or inline data); default otherwise.

    Raises :class:`PresetError` when the named preset is invalid.
    """
    ref = sample.preset
    if isinstance(ref, dict):
        return preset_from_data(ref, f"sample {sample.file}")
    if isinstance(ref, str) and ref.strip():
        ref = ref.strip()
        candidates = [
            presets_dir() / f"{ref}.yaml",
            presets_dir() / ref,
            presets_dir() / Path(ref).name,
            (folder or samples_dir()) / ref,
            ROOT / ref,
        ]
        for path in candidates:
            if path.is_file():
                return load_preset(path)
        raise PresetError(f"sample {sample.file}: preset {ref!r} not found in {presets_dir()}")
    return default_preset()[0]


# -------------------------------------------------------------------------------- images


@dataclass
class LoadedImage:
    """The image being processed: where it came from and its decoded pixels."""

    name: str
    array: np.ndarray
    data: bytes | None = None
    pages: int = 1
    page: int = 0
    origin: str = "sample"

    @functools.cached_property
    def digest(self) -> str:
        """:func:`~pipeline.cache.image_digest` of the pixels, computed once."""
        return image_digest(self.array)

    @functools.cached_property
    def preview(self) -> tuple[int, np.ndarray, str]:
        """The reduced copy the stages are previewed on (:mod:`pipeline.preview`): its factor, its
        pixels and their digest, made once; factor 1 is the image itself."""
        factor = preview_factor(self.array.shape)
        if factor == 1:
            return 1, self.array, self.digest
        small = reduce(self.array, factor)
        return factor, small, image_digest(small)


PDF_DPI = 200
"""Resolution PDF pages are rendered at in the studio, in pixels per inch (a letter page: 3.7 MP)."""


def decode(data: bytes, name: str, page: int = 0, origin: str = "upload") -> LoadedImage:
    """Decode uploaded bytes (page ``page``, 0-based, of a multi-page file or a PDF);
    :class:`ImageError` if unreadable."""
    if data[:5] == b"%PDF-":
        pages = pdfpages.pdf_bytes_pages(data, name)
        page = min(max(page, 0), pages - 1)
        array = pdfpages.render_pdf_bytes(data, page + 1, name, PDF_DPI)
    else:
        pages = count_pages(data, name=name)
        page = min(max(page, 0), pages - 1)
        array = read_image(data, page=page, name=name)
    array.flags.writeable = False
    return LoadedImage(name, array, data, pages, page, origin)


def load_sample_image(sample: Sample, folder: Path | None = None) -> LoadedImage:
    """The sample's image (or the generated one); :class:`ImageError` if the file is unreadable."""
    if sample.file == GENERATED:
        array = generated_image()
        array.flags.writeable = False
        return LoadedImage("generated.png", array, None, 1, 0, "sample")
    path = (folder or samples_dir()) / sample.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"{sample.file}: cannot be read: {exc.strerror}") from None
    return decode(data, sample.file, 0, "sample")


GENERATED_TEXT = "LOT 4471-B\nBEST BEFORE 12/2026"


def generated_image(width: int = 900, seed: int = 7) -> np.ndarray:
    """A small BGR photo-like label: dark text on uneven, speckled, tinted paper (deterministic)."""
    rng = np.random.default_rng(seed)
    h = width * 2 // 5
    yy, xx = np.mgrid[0:h, 0:width].astype(np.float32)
    paper = 200 + 35 * (xx / width) - 25 * (yy / h)  # uneven lighting
    img = np.dstack([paper * 0.92, paper * 0.97, paper]).astype(np.float32)
    text = np.full((h, width), 255, np.uint8)
    scale = width / 520
    for i, line in enumerate(GENERATED_TEXT.split("\n")):
        cv2.putText(
            text,
            line,
            (int(width * 0.06), int(h * (0.42 + 0.36 * i))),
            cv2.FONT_HERSHEY_DUPLEX,
            scale,
            0,
            max(2, int(scale * 2)),
            cv2.LINE_AA,
        )
    ink = (255 - text.astype(np.float32)) / 255.0
    img = img * (1 - 0.8 * ink[..., None])
    img += rng.normal(0, 12, img.shape).astype(np.float32)  # sensor noise
    specks = rng.random((h, width)) < 0.004  # dark speckle
    img[specks] = rng.uniform(20, 90, (int(specks.sum()), 1))
    return np.clip(img, 0, 255).astype(np.uint8)
