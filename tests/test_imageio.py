"""Reading images as users have them, and refusing bad files with one clear message.

Every odd or broken file is made here by the test, not committed.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline import imageio
from pipeline.errors import ImageError
from pipeline.imageio import count_pages, read_image


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _gradient(w: int = 40, h: int = 30) -> np.ndarray:
    return np.tile(np.linspace(0, 255, w, dtype=np.uint8), (h, 1))


def test_gray_png_is_gray() -> None:
    out = read_image(_save(Image.fromarray(_gradient()), "PNG"))
    assert out.shape == (30, 40) and out.dtype == np.uint8
    assert out[0, 0] == 0 and out[0, -1] == 255


def test_colour_is_bgr() -> None:
    rgb = np.zeros((10, 12, 3), np.uint8)
    rgb[..., 0] = 200  # red in RGB
    out = read_image(_save(Image.fromarray(rgb), "PNG"))
    assert out.shape == (10, 12, 3)
    assert out[0, 0].tolist() == [0, 0, 200]  # BGR


def test_16_bit_gray_is_scaled() -> None:
    arr = (np.linspace(0, 65535, 40 * 30).reshape(30, 40)).astype(np.uint16)
    out = read_image(_save(Image.fromarray(arr), "PNG"))
    assert out.dtype == np.uint8 and out.min() == 0 and out.max() == 255
    assert abs(int(out[15, 20]) - int(arr[15, 20]) // 257) <= 1


def test_alpha_is_flattened_on_white() -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)  # black, fully transparent
    rgba[:4, :, 3] = 255  # top half opaque black
    out = read_image(_save(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert (out[:4] == 0).all() and (out[4:] == 255).all()
    la = Image.fromarray(np.dstack([np.zeros((8, 8), np.uint8), rgba[..., 3]]), "LA")
    out = read_image(_save(la, "PNG"))
    assert out.ndim == 2 and (out[:4] == 0).all() and (out[4:] == 255).all()


def test_palette_and_one_bit() -> None:
    pal = Image.fromarray(np.dstack([_gradient()] * 3)).convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    assert read_image(_save(pal, "PNG")).shape[:2] == (30, 40)
    one = Image.fromarray(_gradient() > 127).convert("1")
    out = read_image(_save(one, "PNG"))
    assert set(np.unique(out).tolist()) <= {0, 255}


def test_cmyk_jpeg() -> None:
    cmyk = Image.new("CMYK", (16, 16), (0, 0, 0, 255))  # full black ink
    out = read_image(_save(cmyk, "JPEG"))
    assert out.shape == (16, 16, 3) and out.mean() < 40


def test_exif_orientation_is_applied() -> None:
    arr = np.full((20, 40), 255, np.uint8)
    arr[:, :5] = 0  # black stripe on the left
    img = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = read_image(_save(img, "JPEG", exif=exif.tobytes(), quality=95))
    assert out.shape == (40, 20)
    assert out[:5].mean() < 60 and out[-5:].mean() > 200  # the stripe is now on top


def test_multipage_tiff_and_gif_pages() -> None:
    pages = [Image.fromarray(np.full((10, 10), v, np.uint8)) for v in (10, 120, 240)]
    data = _save(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    assert count_pages(data) == 3
    assert read_image(data).mean() == pytest.approx(10, abs=1)
    assert read_image(data, page=2).mean() == pytest.approx(240, abs=1)
    with pytest.raises(ImageError, match="has 3 page"):
        read_image(data, page=5)
    gif = _save(
        pages[0].convert("P"), "GIF", save_all=True, append_images=[p.convert("P") for p in pages[1:]]
    )
    assert count_pages(gif) == 3


def test_tiny_and_extreme_aspect() -> None:
    assert read_image(_save(Image.new("L", (8, 8), 0), "PNG")).shape == (8, 8)
    assert read_image(_save(Image.new("L", (4000, 2), 0), "PNG")).shape == (2, 4000)
    assert read_image(_save(Image.new("RGB", (1, 1)), "BMP")).shape == (1, 1, 3)


@pytest.mark.parametrize("fmt", ["BMP", "WEBP", "TIFF", "GIF"])
def test_other_formats(fmt: str) -> None:
    assert read_image(_save(Image.fromarray(_gradient()), fmt)).shape[:2] == (30, 40)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty"),
        (b"hello, I am text\n" * 5, "not an image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "a PDF"),
        (_save(Image.fromarray(_gradient(400, 300)), "PNG")[:300], "damaged or truncated"),
        (_save(Image.fromarray(_gradient(400, 300)), "JPEG")[:400], "damaged or truncated"),
    ],
)
def test_bad_files_give_one_clear_message(data: bytes, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(data)
    with pytest.raises(ImageError) as info:
        read_image(path)
    message = str(info.value)
    assert message.startswith(str(path)) and expected in message
    assert "\n" not in message


def test_pixel_limit_names_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imageio, "MAX_PIXELS", 10_000)
    with pytest.raises(ImageError, match=r"at most 10,000 pixels.*CLARITY_MAX_PIXELS"):
        read_image(_save(Image.new("L", (200, 100)), "PNG"), name="big.png")
    # a bomb: tiny file, huge declared size
    bomb = _save(Image.new("1", (20_000, 20_000)), "PNG")
    assert len(bomb) < 200_000
    with pytest.raises(ImageError, match="too large"):
        read_image(bomb)


def test_missing_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no such file"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(ImageError, match="folder"):
        read_image(tmp_path)


def test_large_photo_is_read_processed_and_previewed(tmp_path: Path) -> None:
    """A 6000 x 4000 phone photo: read, run through a preset, previewed at a small size."""
    from pipeline import parse_preset, run
    from studio.overlays import downscale

    rng = np.random.default_rng(0)
    photo = rng.integers(150, 256, size=(4000, 6000, 3), dtype=np.uint8)
    photo[1800:2200, 1000:5000] = 20  # a dark bar of "text"
    path = tmp_path / "phone.jpg"
    Image.fromarray(photo).save(path, quality=85)
    image = read_image(path)
    assert image.shape == (4000, 6000, 3)
    preset = parse_preset("schema_version: 1\nstages: [grayscale, {stage: threshold}]\n")
    final = run(image, preset, cache=None).final
    assert final.shape == (4000, 6000) and final[2000, 3000] == 0 and final[100, 100] == 255
    preview = downscale(final)
    assert max(preview.shape) <= 1000
