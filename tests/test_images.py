import cv2
import numpy as np
import pytest

from iunet_gui.core.errors import ImageLoadError
from iunet_gui.core.images import load_image, read_mask, save_image, save_mask


def test_rgb_png_round_trip(tmp_path):
    img = np.random.default_rng(0).integers(0, 255, (9, 13, 3), dtype=np.uint8)
    save_image(tmp_path / "a.png", img)
    assert np.array_equal(load_image(tmp_path / "a.png"), img)


def test_16bit_gray_is_converted(tmp_path):
    img16 = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000)
    cv2.imwrite(str(tmp_path / "a.png"), img16)
    out = load_image(tmp_path / "a.png")
    assert out.dtype == np.uint8 and out.shape == (8, 8, 3)
    assert out[7, 7, 0] == (63 * 1000) >> 8


def test_rgba_and_gray_are_converted(tmp_path):
    rgba = np.zeros((4, 5, 4), np.uint8)
    rgba[..., 2] = 200  # red in BGRA order
    rgba[..., 3] = 10
    cv2.imwrite(str(tmp_path / "rgba.png"), rgba)
    out = load_image(tmp_path / "rgba.png")
    assert out.shape == (4, 5, 3) and out[0, 0].tolist() == [200, 0, 0]
    cv2.imwrite(str(tmp_path / "g.png"), np.full((3, 3), 77, np.uint8))
    assert load_image(tmp_path / "g.png", mode="gray").shape == (3, 3)
    assert load_image(tmp_path / "g.png").shape == (3, 3, 3)


@pytest.mark.parametrize("content, fragment", [(b"", "empty"), (b"\x89PNG\r\n\x1a\nbroken", "not a readable image")])
def test_empty_and_corrupt_images(tmp_path, content, fragment):
    p = tmp_path / "x.png"
    p.write_bytes(content)
    with pytest.raises(ImageLoadError, match=fragment):
        load_image(p)


def test_missing_image(tmp_path):
    with pytest.raises(ImageLoadError, match="not found"):
        load_image(tmp_path / "none.jpg")


def test_mask_threshold_is_128(tmp_path):
    m = np.array([[0, 127, 128, 255]], np.uint8)
    cv2.imwrite(str(tmp_path / "m.png"), m)
    assert read_mask(tmp_path / "m.png").tolist() == [[False, False, True, True]]
    save_mask(tmp_path / "o.png", np.array([[True, False]]))
    assert cv2.imread(str(tmp_path / "o.png"), cv2.IMREAD_UNCHANGED).tolist() == [[255, 0]]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_like_labelme(tmp_path, orientation):
    from PIL import Image, ImageOps

    from iunet_gui.core.images import image_size

    blocks = np.random.default_rng(orientation).integers(0, 255, (3, 5, 3), dtype=np.uint8)
    img = Image.fromarray(np.kron(blocks, np.ones((8, 8, 1), np.uint8)))  # 24 x 40, blocky: JPEG-safe
    exif = img.getexif()
    exif[0x0112] = orientation
    p = tmp_path / "phone.jpg"
    img.save(p, quality=98, exif=exif)
    upright = np.asarray(ImageOps.exif_transpose(Image.open(p)).convert("RGB"))
    ours = load_image(p)
    assert ours.shape == upright.shape
    assert np.abs(ours.astype(int) - upright).max() <= 2
    assert image_size(p) == (upright.shape[1], upright.shape[0])


def test_12bit_data_in_a_16bit_file_is_not_black(tmp_path):
    img12 = np.array([[0, 1024, 2048, 4095]], np.uint16)
    cv2.imwrite(str(tmp_path / "cam.png"), img12)
    assert load_image(tmp_path / "cam.png", mode="gray").tolist() == [[0, 64, 128, 255]]


def test_save_image_handles_rgba_float_and_refuses_unknown_formats(tmp_path):
    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[..., 0] = 200  # red
    rgba[..., 3] = 255
    save_image(tmp_path / "a.png", rgba)
    assert load_image(tmp_path / "a.png")[0, 0].tolist() == [200, 0, 0]
    save_image(tmp_path / "f.png", np.full((2, 2), 0.5))  # float in [0, 1]
    assert load_image(tmp_path / "f.png", mode="gray")[0, 0] == 127
    with pytest.raises(ImageLoadError, match="cannot encode"):
        save_image(tmp_path / "x.xyz", np.zeros((2, 2), np.uint8))
    assert not (tmp_path / "x.xyz").exists()


def test_palette_gray_alpha_one_bit_and_float_images_are_converted(tmp_path):
    from PIL import Image

    pal = Image.fromarray(np.array([[0, 1], [2, 1]], np.uint8), mode="P")
    pal.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 759)
    pal.save(tmp_path / "p.png")
    assert load_image(tmp_path / "p.png").tolist() == [[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [0, 255, 0]]]
    Image.fromarray(np.dstack([np.array([[10, 20], [30, 40]], np.uint8)] * 2), mode="LA").save(tmp_path / "la.png")
    assert load_image(tmp_path / "la.png", "gray").tolist() == [[10, 20], [30, 40]]
    Image.fromarray(np.array([[1, 0], [0, 1]], bool)).save(tmp_path / "b.png")
    assert load_image(tmp_path / "b.png", "gray").tolist() == [[255, 0], [0, 255]]
    Image.fromarray(np.array([[0.0, 0.5], [1.0, 0.25]], np.float32), mode="F").save(tmp_path / "f.tif")
    assert load_image(tmp_path / "f.tif", "gray").tolist() == [[0, 127], [255, 63]]


def test_a_header_beyond_the_decoders_limit_is_an_image_load_error(tmp_path):
    from tests.image_files import png_claiming

    huge = png_claiming(tmp_path / "huge.png")
    with pytest.raises(ImageLoadError, match=r"^cannot read image .*huge\.png: its header claims more pixels"):
        load_image(huge)
    with pytest.raises(ImageLoadError, match="cannot read image"):
        read_mask(huge)


@pytest.mark.parametrize("failure", [ValueError("bad huffman table"), MemoryError(), RuntimeError("decoder bug")])
def test_any_decoder_failure_is_an_image_load_error_naming_the_file(tmp_path, monkeypatch, failure):
    import iunet_gui.core.images as images

    img = tmp_path / "ok.png"
    save_image(img, np.zeros((4, 4), np.uint8))

    def broken_decoder(*args, **kwargs):
        raise failure

    monkeypatch.setattr(images.cv2, "imdecode", broken_decoder)
    with pytest.raises(ImageLoadError, match=r"^cannot read image .*ok\.png: "):
        load_image(img)
