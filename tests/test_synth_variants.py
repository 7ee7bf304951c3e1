"""The generator parameters the held-out sets vary (scripts/make_devsets.py): gray band, noise."""

from __future__ import annotations

import cv2
import numpy as np

from scripts import synth


def _gray_pixels_in(image: np.ndarray, low: int, high: int) -> int:
    """Pixels whose B, G, R are equal and within ``low..high``."""
    b, g, r = (image[:, :, i].astype(int) for i in range(3))
    return int(((b == g) & (g == r) & (b >= low) & (b <= high)).sum())


def test_gray_band_captcha_draws_its_glyphs_in_the_given_band() -> None:
    image = synth.gray_band_captcha(np.random.default_rng(3), "KdPw4A", band=(140, 143)).image
    glyph_area = _gray_pixels_in(image, 140, 143)
    assert glyph_area > 1500  # six 36-44 px bold glyphs
    # The default band is left to the distractors' anti-aliased edges only.
    assert _gray_pixels_in(image, 100, 104) < glyph_area / 5


def test_gray_band_captcha_keeps_distractor_tones_out_of_a_moved_band() -> None:
    rng = np.random.default_rng(0)
    tones = [synth._tone_outside_band(rng, (120, 124)) for _ in range(500)]
    assert all(t <= 105 or t >= 140 for t in tones)


def test_speckled_line_noise_levels() -> None:
    quiet = synth.SpeckleNoise(dark=0.0, light=0.0, blobs=(0, 1), strokes=(0, 1), grain=0.0)
    loud = synth.SpeckleNoise(dark=0.12, light=0.04)

    def isolated_dark_specks(noise: synth.SpeckleNoise) -> int:
        image = synth.speckled_line(np.random.default_rng(5), "LOT 2207", noise=noise).image
        gray = image.mean(axis=2)
        dark = (gray < 80).astype(np.uint8)
        _, _, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
        return int((stats[1:, 4] <= 4).sum())

    assert isolated_dark_specks(quiet) < 20
    assert isolated_dark_specks(loud) > 10 * max(1, isolated_dark_specks(quiet))
