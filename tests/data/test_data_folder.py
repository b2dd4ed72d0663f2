"""ImageFolder from real PNG files: decoding, caching, bad files and bad layouts."""
import pytest
import torch
from PIL import Image

from studio.data.dataset import DataError
from studio.data.load import load_dataset
from studio.settings import DataSettings

COLOURS = {"blue": (0, 0, 255), "red": (255, 0, 0), "green": (0, 200, 0)}


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "studio" / "images"


def make_folder(root, classes=("blue", "red"), per_class=4, size=(40, 20)):
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", size, COLOURS[name]).save(root / name / f"{i}.png")
    return root


def settings(path, **kw):
    return DataSettings(dataset="image_folder", path=str(path), image_size=16, **kw)


def test_decodes_resizes_and_labels(tmp_path):
    root = make_folder(tmp_path / "imgs", ("blue", "green", "red"))
    (root / "red" / "grey.png").parent.mkdir(exist_ok=True)
    Image.new("L", (8, 8), 128).save(root / "red" / "grey.png")   # greyscale becomes RGB
    d = load_dataset(settings(root, val_split=0.25))
    assert d.classes == ["blue", "green", "red"] and d.kind == "image"
    assert d.x_train.dtype == torch.uint8 and d.sample_shape == (3, 16, 16)
    assert len(d.x_train) + len(d.x_val) == 13 and len(d.x_val) == 3
    x, y = torch.cat([d.x_train, d.x_val]), torch.cat([d.y_train, d.y_val])
    blue = x[y == 0]
    assert (blue[:, 2] == 255).all() and (blue[:, 0] == 0).all()
    assert d.notes == [] and len(d.mean) == 3


def test_cache_is_written_reused_and_invalidated(tmp_path, cache_home, monkeypatch):
    root = make_folder(tmp_path / "imgs")
    first = load_dataset(settings(root))
    assert len(list(cache_home.glob("*.safetensors"))) == 1
    from studio.data import folder
    monkeypatch.setattr(folder, "decode", lambda *a: pytest.fail("decoded again despite the cache"))
    again = load_dataset(settings(root))
    assert torch.equal(first.x_train, again.x_train)
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home.parents[1]))
    Image.new("RGB", (5, 5), (1, 2, 3)).save(root / "red" / "new.png")   # a new file: new key
    changed = load_dataset(settings(root))
    assert len(changed.x_train) + len(changed.x_val) == len(first.x_train) + len(first.x_val) + 1
    assert len(list(cache_home.glob("*.safetensors"))) == 2


def test_corrupt_image_is_skipped_and_reported(tmp_path):
    root = make_folder(tmp_path / "imgs")
    (root / "red" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    messages = []
    d = load_dataset(settings(root), progress=lambda f, m: messages.append(m))
    assert len(d.x_train) + len(d.x_val) == 8
    assert d.notes and "Skipped 1 unreadable image" in d.notes[0] and "broken.png" in d.notes[0]
    assert any("Skipped 1" in m for m in messages)
    d2 = load_dataset(settings(root))   # from the cache: still reported
    assert d2.notes == d.notes


def test_all_images_unreadable(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.jpg").write_bytes(b"nope")
    with pytest.raises(DataError, match="None of the 2 images"):
        load_dataset(settings(tmp_path))


def test_one_class_is_refused(tmp_path):
    make_folder(tmp_path / "imgs", ("blue",))
    with pytest.raises(DataError, match="ImageFolder needs at least two class subfolders"):
        load_dataset(settings(tmp_path / "imgs"))


def test_missing_folder_and_no_images(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(settings(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="Choose the image folder"):
        load_dataset(settings(""))
    (tmp_path / "empty" / "a").mkdir(parents=True)
    (tmp_path / "empty" / "b").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "empty" / "loose.png")
    with pytest.raises(DataError, match="No images found.*own subfolder"):
        load_dataset(settings(tmp_path / "empty"))


def test_train_and_val_subfolders_give_the_test_split(tmp_path):
    make_folder(tmp_path / "ds" / "train", per_class=5)
    make_folder(tmp_path / "ds" / "val", per_class=2)
    d = load_dataset(settings(tmp_path / "ds"))
    assert (len(d.x_train), len(d.x_val), d.classes) == (10, 4, ["blue", "red"])


def test_limit_keeps_every_class(tmp_path):
    make_folder(tmp_path / "imgs", per_class=20)
    d = load_dataset(settings(tmp_path / "imgs", limit=10, val_split=0.0))
    assert len(d.x_train) == 10 and set(d.y_train.tolist()) == {0, 1}
