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
    assert mm == pytest.approx(s.mm_per_px, rel=0.03)
