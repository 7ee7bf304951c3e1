"""Geometry stages (pipeline/stages/geometry.py): rescale, deskew, rotate, crop, pad."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.preset import load_preset
from pipeline.runner import run
from pipeline.shipped import resolve_preset
from pipeline.stages.geometry import (
    CropParams,
    DeskewParams,
    PadParams,
    RescaleParams,
    RotateParams,
    crop,
    deskew,
    estimate_skew,
    pad,
    quarter_turn,
    rescale,
    rotate,
    text_height,
)
from scripts import synth

from .stage_images import (
    hershey_text,
    multiline,
)

# ----------------------------------------------------------------------------- rescale


def test_rescale_factor_sizes() -> None:
    img = hershey_text()
    h, w = img.shape
    assert rescale(img, RescaleParams(factor=2.0)).shape == (2 * h, 2 * w)
    half = rescale(img, RescaleParams(factor=0.5, interpolation="nearest"))
    assert half.shape == (round(h * 0.5), round(w * 0.5)) and set(np.unique(half)) <= set(np.unique(img))
    bgr = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    assert rescale(bgr, RescaleParams(factor=1.5)).shape == (round(h * 1.5), round(w * 1.5), 3)
    capped = rescale(img, RescaleParams(factor=8.0, max_pixels=0.1))
    assert capped.shape[0] * capped.shape[1] <= 100_000 * 1.01 and capped.shape[1] > w


@pytest.mark.parametrize("target", [20, 40, 80])
def test_rescale_text_height_reaches_target(target: int) -> None:
    img = hershey_text("Clarity 2026 OCR", scale=1.0)
    out = rescale(img, RescaleParams(mode="text_height", target_height=target))
    measured = text_height(out)
    assert measured is not None and abs(measured - target) <= 0.15 * target


@pytest.mark.parametrize("target", [20, 40, 80])
def test_rescale_shrink_only_never_enlarges(target: int) -> None:
    img = hershey_text("Clarity 2026 OCR", scale=1.0)
    current = text_height(img)
    assert current is not None and 20 < current < 80
    out = rescale(img, RescaleParams(mode="text_height", target_height=target, shrink_only=True))
    if target > current:
        assert np.array_equal(out, img)
    else:
        measured = text_height(out)
        assert out.shape[0] < img.shape[0] and measured is not None
        assert abs(measured - target) <= 0.15 * target


def _grainy_shaded(img: np.ndarray, grain: float, seed: int = 3) -> np.ndarray:
    """``img`` (dark text on white) lit from 250 at the top left down to 63 at the bottom right,
    ink at 30 % of the light, plus Gaussian grain of ``grain`` gray levels."""
    h, w = img.shape
    light = np.linspace(250, 90, w)[None, :] * np.linspace(1.0, 0.7, h)[:, None]
    noisy = np.where(img < 128, light * 0.3, light) + np.random.default_rng(seed).normal(0, grain, img.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def test_evened_text_height_measures_the_glyphs_of_a_grainy_shaded_photo() -> None:
    clean = multiline()
    true = text_height(clean)
    assert true is not None
    photo = cv2.resize(_grainy_shaded(clean, grain=12), None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    plain, evened = text_height(photo), text_height(photo, measure="evened")
    assert plain is not None and plain < true  # Otsu of the photo measures its grain
    assert evened is not None and abs(evened - 3 * true) <= 0.1 * 3 * true
    assert text_height(clean, measure="evened") == pytest.approx(true, rel=0.1)


def test_evened_text_height_leaves_out_the_black_corners_of_a_skewed_scan() -> None:
    scan = cv2.imread(str(Path(__file__).parent / "data" / "skewed-page.png"))  # black wedges top and bottom
    plain = text_height(scan)
    assert plain is not None and 9 <= plain <= 13
    evened = text_height(scan, measure="evened")  # was 282: the wedges, and the text's darkest specks
    assert evened is not None and abs(evened - plain) <= 3
    shrink = RescaleParams(mode="text_height", target_height=32, measure="evened", shrink_only=True)
    assert rescale(scan, shrink).shape == scan.shape  # the document preset leaves its 11 px text alone


def test_rescale_by_evened_height_shrinks_a_grainy_photo_to_the_target() -> None:
    photo = cv2.resize(_grainy_shaded(multiline(), grain=12), None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    params = RescaleParams(mode="text_height", target_height=32, measure="evened", shrink_only=True)
    out = rescale(photo, params)
    assert out.shape[0] < photo.shape[0] / 1.4
    measured = text_height(out, measure="evened")
    assert measured is not None and abs(measured - 32) <= 0.15 * 32
    assert rescale(photo, params.model_copy(update={"measure": "plain"})).shape == photo.shape


def test_weighted_text_height_measures_the_letters_of_a_speckled_line_at_any_size() -> None:
    """Hundreds of specks may outnumber the letters; weighted (a median over the ink's pixels)
    measures the letters, at the line's own size and shrunk or enlarged."""
    rng = np.random.default_rng(3)
    for _ in range(4):
        line = synth.speckled_line(rng).image
        letters = text_height(line, measure="weighted")
        assert letters is not None and 25 <= letters <= 40  # the generator draws 38-46 px type
        for scale in (0.5, 2.5):
            method = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
            resized = cv2.resize(line, None, fx=scale, fy=scale, interpolation=method)
            assert text_height(resized, measure="weighted") == pytest.approx(scale * letters, rel=0.12)


def test_weighted_text_height_leaves_out_letters_joined_into_a_wide_blob() -> None:
    """A stroke across three letters makes one blob holding most of the ink; it is not a letter."""
    img = np.full((120, 400), 255, np.uint8)
    for x in range(20, 380, 40):
        img[40:70, x : x + 20] = 0  # nine 30 px letters
    img[20:100, 100:260] = 0  # one 160 x 80 px blob, more ink than the letters together
    assert text_height(img) == 30
    assert text_height(img, measure="weighted") == 30


@pytest.mark.parametrize(("height", "target"), [(32, 64), (112, 64), (40, 100), (7, 80)])
def test_rescale_image_height_reaches_target(height: int, target: int) -> None:
    img = np.full((height, 21), 200, np.uint8)
    img[height // 4 : height - height // 4, 5:15] = 30
    out = rescale(img, RescaleParams(mode="image_height", target_image_height=target))
    factor = min(8.0, target / height)  # the factor is clamped to 0.1..8
    assert out.shape == (round(height * factor), round(21 * factor))
    if factor == target / height:
        assert out.shape[0] == target
    bgr = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    assert rescale(bgr, RescaleParams(mode="image_height", target_image_height=target)).shape[2] == 3


def test_rescale_without_text_is_unchanged() -> None:
    blank = np.full((30, 40), 200, np.uint8)
    assert np.array_equal(rescale(blank, RescaleParams(mode="text_height")), blank)


# ----------------------------------------------------------------------------- deskew


@pytest.mark.parametrize("angle", [5.0, -5.0, 2.3])
def test_deskew_recovers_rotation(angle: float) -> None:
    img = multiline()
    tilted = rotate(img, angle, True, "white")
    assert abs(estimate_skew(tilted, 10.0, 0.1) - angle) <= 0.5
    straight = deskew(tilted, DeskewParams())
    assert straight.dtype == np.uint8 and straight.ndim == 2
    assert abs(estimate_skew(straight, 10.0, 0.1)) <= 0.5
    assert straight[0, 0] == 255  # white corners


def test_deskew_keeps_binary_and_straight_text() -> None:
    img = multiline(3)
    binary = np.where(rotate(img, 4.0, True, "white") < 128, 0, 255).astype(np.uint8)
    out = deskew(binary, DeskewParams(fill="black", expand=False))
    assert out.shape == binary.shape and set(np.unique(out)) <= {0, 255}
    assert np.array_equal(deskew(img, DeskewParams()), img)


# ----------------------------------------------------------------------------- rotate


@pytest.mark.parametrize("channels", [(), (3,)])
def test_rotate_moves_pixels_by_quarter_turns_clockwise(channels: tuple[int, ...]) -> None:
    img = np.zeros((4, 6, *channels), np.uint8)
    img[0, 0] = 200  # top-left corner
    quarter = quarter_turn(img, RotateParams(clockwise=90))
    assert quarter.shape == (6, 4, *channels) and (quarter[0, 3] == 200).all()  # now top-right
    half = quarter_turn(img, RotateParams(clockwise=180))
    assert half.shape == img.shape and (half[3, 5] == 200).all()  # bottom-right
    three = quarter_turn(img, RotateParams(clockwise=270))
    assert three.shape == (6, 4, *channels) and (three[5, 0] == 200).all()  # bottom-left
    back = quarter_turn(quarter, RotateParams(clockwise=270))
    assert np.array_equal(back, img)
    same = quarter_turn(img, RotateParams())
    assert np.array_equal(same, img) and same is not img


def test_rotate_accepts_only_quarter_turns() -> None:
    with pytest.raises(ValueError):
        RotateParams(clockwise=45)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- crop / pad


def test_crop_sizes_and_clamp() -> None:
    img = np.zeros((100, 200, 3), np.uint8)
    assert crop(img, CropParams(top=10, bottom=5, left=20, right=30)).shape == (85, 150, 3)
    assert crop(img, CropParams(unit="percent", top=10, bottom=10, left=25, right=25)).shape == (80, 100, 3)
    assert crop(img, CropParams(top=5000, bottom=5000, left=5000, right=5000)).shape == (1, 1, 3)
    assert crop(img, CropParams(unit="percent", top=100, bottom=100)).shape == (1, 200, 3)
    tagged = np.arange(100 * 200, dtype=np.int64).reshape(100, 200).astype(np.uint8)
    assert np.array_equal(crop(tagged, CropParams(top=3, left=4)), tagged[3:, 4:])


def test_pad_sizes_and_colours() -> None:
    img = np.full((10, 20), 128, np.uint8)
    out = pad(img, PadParams(size=7))
    assert out.shape == (24, 34) and out[0, 0] == 255 and out[7, 7] == 128
    assert pad(img, PadParams(size=3, color="black"))[0, 0] == 0
    assert pad(img, PadParams(size=3, color="replicate"))[0, 0] == 128
    bgr = pad(np.zeros((4, 5, 3), np.uint8), PadParams(size=2))
    assert bgr.shape == (8, 9, 3) and (bgr[0, 0] == 255).all()
    assert np.array_equal(pad(img, PadParams(size=0)), img)


def test_the_document_preset_shrinks_a_photo_for_tesseract_and_leaves_a_scan() -> None:
    shipped = load_preset(resolve_preset(Path("document")))
    preset = shipped.model_copy(update={"ocr": shipped.ocr.model_copy(update={"engine": "tesserocr"})})
    scan = _grainy_shaded(multiline(), grain=6)
    photo = cv2.resize(scan, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    for image, shrunk in ((scan, False), (photo, True)):
        steps = {s.stage: s for s in run(image, preset, cache=None).steps}
        out = steps["rescale"]
        assert out.enabled
        assert (out.image.shape[0] < image.shape[0] * 0.75) == shrunk
        assert steps["hull_mask"].image.shape == out.image.shape  # every later stage works on it
    rapid = {s.stage: s for s in run(photo, shipped, cache=None).steps}
    assert not rapid["rescale"].enabled  # RapidOCR reads the photo as it is
