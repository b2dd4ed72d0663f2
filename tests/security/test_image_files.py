"""Image files for training and predict: 16-bit images keep their values, and
decompression bombs are errors, not warnings printed on stderr."""
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from studio.cli.export import load_image as predict_load_image
from studio.cli.main import UsageError
from studio.data.folder import decode
from studio.data.load import load_dataset
from studio.settings import DataSettings
from studio.ui.run.inference import load_image as app_load_image


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width×height pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def _sixteen_bit(tmp_path, name="g16.png"):
    values = np.linspace(0, 65535, 64, dtype=np.uint16).reshape(8, 8)
    path = tmp_path / name
    Image.fromarray(values).save(path)
    with Image.open(path) as im:
        assert im.mode.startswith("I")   # Pillow reads it as 16-bit, not 8-bit
    return path, (values.astype(np.int64) + 128) // 257


def test_sixteen_bit_png_is_scaled_not_saturated(tmp_path):
    """Before: every pixel above 255 (all but the darkest) decoded as 255, white."""
    path, expected = _sixteen_bit(tmp_path)
    rgb = decode(path, 8)
    assert np.array_equal(rgb[..., 0], expected) and np.array_equal(rgb[..., 2], expected)
    assert np.array_equal(app_load_image(str(path), 1, 8, 8)[0], expected)
    meta = {"normalize": False}
    x = predict_load_image(str(path), {"channels": 1, "height": 8, "width": 8}, meta)
    assert np.allclose(x[0].numpy() * 255, expected, atol=0.01)


def test_float_image_in_zero_to_one_is_scaled(tmp_path):
    path = tmp_path / "f.tif"
    Image.fromarray(np.full((4, 4), 0.5, np.float32), "F").save(path)
    assert decode(path, 4)[0, 0].tolist() == [128, 128, 128]


def test_decompression_bomb_is_an_error_in_training_and_predict(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for name in ("a", "b"):
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / name / "ok.png")
    (tmp_path / "a" / "bomb.png").write_bytes(_png_claiming(10_000, 10_000))   # 100 M pixels: a warning before
    with pytest.raises(Image.DecompressionBombError):
        decode(tmp_path / "a" / "bomb.png", 4)
    d = load_dataset(DataSettings(dataset="image_folder", path=str(tmp_path), image_size=4))
    assert any("Skipped 1 unreadable image" in n and "bomb.png" in n for n in d.notes)
    with pytest.raises(UsageError, match="bomb.png"):
        predict_load_image(str(tmp_path / "a" / "bomb.png"), {"channels": 3, "height": 4, "width": 4}, {})


def test_palette_image_with_transparency_converts_without_a_warning(tmp_path):
    import warnings
    path = tmp_path / "p.png"
    im = Image.fromarray(np.arange(16, dtype=np.uint8).reshape(4, 4)).convert("P")
    im.info["transparency"] = b"\x00\x01"
    im.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert decode(path, 4).shape == (4, 4, 3)
