import cv2
import numpy as np
import pytest

from iunet_gui.core.calibration import find_washer, mm_per_px_from_outer_diameter
from iunet_gui.core.errors import IunetError


def _washer(r_out=300, r_in=140, center=(420, 330), size=(660, 800)):
    img = np.full(size, 50, np.uint8)
    cv2.circle(img, center, r_out, 190, -1, cv2.LINE_AA)
    cv2.circle(img, center, r_in, 50, -1, cv2.LINE_AA)
    ramp = np.linspace(-30, 30, size[1])[None, :]  # uneven light
    noise = np.random.default_rng(0).normal(0, 6, size)
    return np.clip(img + ramp + noise, 0, 255).astype(np.uint8)


def test_finds_the_outer_circle_within_one_percent():
    c = find_washer(_washer())
    assert abs(c.r_outer - 300) / 300 < 0.01
    assert abs(c.cx - 420) < 3 and abs(c.cy - 330) < 3
    assert c.r_inner is not None and abs(c.r_inner - 140) / 140 < 0.03


def test_mm_per_px_from_the_nominal_diameter():
    assert mm_per_px_from_outer_diameter(_washer(), 30.0) == pytest.approx(30.0 / 600, rel=0.01)


def test_no_washer_is_a_clear_error():
    with pytest.raises(IunetError, match="no washer"):
        find_washer(np.random.default_rng(1).integers(0, 255, (200, 200), dtype=np.uint8))


def test_synthetic_washer_calibration_matches_its_ground_truth():
    from iunet_gui.core.synth import WasherSpec, render_washer

    s = render_washer(np.random.default_rng(3), WasherSpec(defects=[]))
    mm = mm_per_px_from_outer_diameter(s.image, 30.0)
    assert mm == pytest.approx(s.mm_per_px, rel=0.01)


def _drawn(fg, bg, ramp=0.0, vignette=0.0, r_out=300, r_in=140, center=(420, 330), size=(660, 800)):
    """A washer disk drawn with anti-aliasing, then lit unevenly (linear ramp, vignette) + noise."""
    cover = np.zeros(size, np.uint8)
    cv2.circle(cover, center, r_out, 255, -1, cv2.LINE_AA)
    if r_in:
        cv2.circle(cover, center, r_in, 0, -1, cv2.LINE_AA)
    img = bg + (fg - bg) * cover.astype(float) / 255.0
    yy, xx = np.mgrid[: size[0], : size[1]]
    img += np.linspace(-ramp, ramp, size[1])[None, :]
    img *= 1 - vignette * (((xx - size[1] / 2) / size[1]) ** 2 + ((yy - size[0] / 2) / size[0]) ** 2) * 2
    img += np.random.default_rng(0).normal(0, 6, size)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("case", [
    dict(fg=190, bg=50, ramp=120),  # the light changes more across the image than washer vs table
    dict(fg=190, bg=50, vignette=0.5),
    dict(fg=60, bg=200),  # dark washer on a bright table
    dict(fg=60, bg=200, ramp=60),
    dict(fg=120, bg=90, ramp=40),  # low contrast
    dict(fg=190, bg=50, ramp=30, r_out=60, r_in=25, center=(200, 150)),  # small in the frame
])
def test_outer_circle_within_one_percent_under_hard_lighting(case):
    c = find_washer(_drawn(**case))
    r, (x, y) = case.get("r_out", 300), case.get("center", (420, 330))
    assert abs(c.r_outer - r) / r < 0.01
    assert abs(c.cx - x) < 1.5 and abs(c.cy - y) < 1.5
    r_in = case.get("r_in", 140)
    assert c.r_inner is not None and abs(c.r_inner - r_in) / r_in < 0.03


@pytest.mark.parametrize("image", [
    np.full((300, 300), 90, np.uint8),
    np.tile(np.linspace(0, 255, 400), (300, 1)).astype(np.uint8),
    cv2.rectangle(np.zeros((300, 300), np.uint8), (50, 50), (250, 250), 200, -1),
    np.zeros((8, 8), np.uint8),
])
def test_no_round_object_is_not_a_washer(image):
    with pytest.raises(IunetError, match="no washer"):
        find_washer(image)
