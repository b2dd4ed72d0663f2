"""Your own images: one subfolder per class (like torchvision's ImageFolder).

Every image is decoded once with Pillow to RGB, centre-cropped to a square and
resized to `image_size`, then the uint8 array is cached (safetensors, never
pickle) under ~/.cache/studio/images, keyed by the folder, the chosen files'
names, mtimes and sizes, and the image size. Editing any file changes the key.

Unreadable images are skipped, counted in Dataset.notes and the progress
message; if none can be read, loading fails naming the first bad file.

A folder holding `train/` and `val/` (or `valid/`, `validation/`, `test/`)
subfolders, each with class subfolders, uses the second as its own test split.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from studio.data.common import SEED, Progress, cache_root, report, split_and_finish
from studio.data.dataset import DataError, Dataset
from studio.data.files import is_system
from studio.data.images import open_image, to_mode

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}
VAL_NAMES = ("val", "valid", "validation", "test")
CACHE_VERSION = 2   # 2: 16-bit images scaled, not clipped
MAX_FOLDERS = 100_000
MAX_FILES = 2_000_000


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images_in(folder: Path, visits: list[int]) -> list[Path]:
    """Image files under `folder`, sorted, links followed. Each real folder is read
    once (by device and inode), so a link loop ends and a folder linked twice
    counts once; /proc and /sys are never entered; `visits` counts folders read
    across calls, against MAX_FOLDERS. Non-regular files named like images are
    listed: decoding refuses them and reports them as skipped."""
    found, stack, seen = [], [folder], set()
    while stack:
        d = stack.pop()
        try:
            st = os.stat(d)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen or is_system(st):
            continue
        seen.add((st.st_dev, st.st_ino))
        visits[0] += 1
        if visits[0] > MAX_FOLDERS:
            raise DataError(f"{folder} holds more than {MAX_FOLDERS:,} folders; choose the folder that "
                            "holds one subfolder per class")
        try:
            with os.scandir(d) as it:
                entries = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError:
            continue
        subfolders = []
        for e in entries:
            try:
                is_dir = e.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                subfolders.append(Path(e.path))
            elif Path(e.name).suffix.lower() in EXTENSIONS:
                found.append(Path(e.path))
        if len(found) > MAX_FILES:
            raise DataError(f"{folder} holds more than {MAX_FILES:,} images; use a smaller folder")
        stack.extend(reversed(subfolders))
    return found


def scan(folder: Path, classes: list[str] | None = None) -> tuple[list[str], list[tuple[Path, int]]]:
    """Class names (subfolders with images) and (file, class index) pairs."""
    visits = [0]
    per_class = {p.name: _images_in(p, visits) for p in _subfolders(folder)}
    if classes is None:
        classes = [name for name, files in per_class.items() if files]
        if not classes:
            loose = any(p.is_file() and p.suffix.lower() in EXTENSIONS for p in folder.iterdir())
            raise DataError(f"No images found in the subfolders of {folder} (looked for "
                            f"{', '.join(sorted(EXTENSIONS))})" + (
                                "; the images sit directly in the folder: move each class's "
                                "images into its own subfolder" if loose else ""))
        if len(classes) < 2:
            found = ", ".join(per_class) or "none"
            raise DataError(f"ImageFolder needs at least two class subfolders with images in {folder} "
                            f"(one subfolder per class, e.g. cats/ and dogs/); found: {found}")
    unknown = [name for name, files in per_class.items() if files and name not in classes]
    if unknown:
        raise DataError(f"{folder} has class folders the training folder lacks: {', '.join(unknown)}")
    files = [(f, classes.index(name)) for name, fs in per_class.items() if name in classes for f in fs]
    return classes, files


def decode(path: Path, size: int) -> np.ndarray:
    """One image → uint8 size×size×3. Raises DataError for a file that is not a
    regular file or too large, and whatever Pillow raises for a bad image."""
    from PIL import Image, ImageOps
    with open_image(path) as im:
        im.draft("RGB", (size, size))   # JPEG: decode at a reduced scale, several times faster
        rgb = to_mode(im, "RGB")
    return np.asarray(ImageOps.fit(rgb, (size, size), Image.Resampling.BILINEAR), dtype=np.uint8)


def _cache_path(root: Path, files: list[tuple[Path, int]], size: int) -> Path:
    h = hashlib.sha256(json.dumps([CACHE_VERSION, str(root), size]).encode())
    for path, label in files:
        try:
            st = os.stat(path)
            stamp = (st.st_mtime_ns, st.st_size, st.st_mode)
        except OSError:   # a dangling link: decoding will skip it
            stamp = (0, 0, 0)
        h.update(f"{path}\0{stamp}\0{label}\n".encode())
    return cache_root() / "images" / f"{h.hexdigest()[:32]}.safetensors"


def _read_cache(path: Path, size: int):
    from safetensors import SafetensorError
    from safetensors.torch import safe_open
    try:
        with safe_open(str(path), framework="pt") as f:
            x, y = f.get_tensor("x"), f.get_tensor("y")
            skipped = json.loads((f.metadata() or {}).get("skipped", "[]"))
    except (OSError, SafetensorError, ValueError, KeyError):
        return None   # absent or damaged: decode again
    if x.dtype != torch.uint8 or x.shape[1:] != (3, size, size) or len(y) != len(x):
        return None
    return x, y, skipped


def _write_cache(path: Path, x: torch.Tensor, y: torch.Tensor, skipped: list[str]) -> None:
    from safetensors.torch import save_file
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file({"x": x.contiguous(), "y": y.contiguous()}, str(tmp), metadata={"skipped": json.dumps(skipped)})
        os.replace(tmp, path)   # atomic: a crash never leaves a half-written cache
    except OSError:
        tmp.unlink(missing_ok=True)   # a read-only cache folder only costs speed next time


def decode_all(root: Path, files: list[tuple[Path, int]], size: int, progress: Progress, what: str):
    """Decode (cached) → uint8 N×3×S×S, int64 labels, and skipped files' names."""
    cache = _cache_path(root, files, size)
    cached = _read_cache(cache, size)
    if cached is not None:
        report(progress, 1.0, f"{what}: {len(cached[0])} images from the cache")
        return cached
    images, labels, skipped, first_error = [], [], [], ""
    step = max(1, len(files) // 100)
    for i, (path, label) in enumerate(files):
        if i % step == 0:
            report(progress, i / len(files), f"Decoding {what}: {i} of {len(files)} images")
        try:
            images.append(decode(path, size))
            labels.append(label)
        except Exception as e:  # noqa: BLE001 - Pillow raises many types for bad files; skip any
            skipped.append(str(path.relative_to(root)))
            first_error = first_error or f"{path}: {type(e).__name__}: {e}"
    if not images:
        raise DataError(f"None of the {len(files)} images in {root} could be read; the first: {first_error}")
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    y = torch.tensor(labels, dtype=torch.int64)
    _write_cache(cache, x, y, skipped)
    return x, y, skipped


def _split_folders(root: Path) -> tuple[Path, Path] | None:
    names = {p.name.lower(): p for p in _subfolders(root)}
    val = next((names[n] for n in VAL_NAMES if n in names), None)
    if "train" in names and val is not None and set(names) <= {"train", *VAL_NAMES}:
        return names["train"], val
    return None


def load_image_folder(settings, progress: Progress = None) -> Dataset:
    if not settings.path.strip():
        raise DataError("Choose the image folder to train on (one subfolder per class)")
    root = Path(os.path.expanduser(settings.path)).resolve()
    if root.is_dir() and is_system(os.stat(root)):
        raise DataError(f"{root} is a system folder (/proc or /sys), not an image folder")
    if not root.is_dir():
        raise DataError(f"Image folder {root} does not exist" if not root.exists()
                        else f"{root} is a file; choose the folder that holds one subfolder per class")
    size = settings.image_size
    split = _split_folders(root)
    train_dir = split[0] if split else root
    classes, files = scan(train_dir)
    # Files come grouped by class; shuffle (fixed seed) so `limit` keeps every class.
    order = np.random.default_rng(SEED).permutation(len(files))
    files = [files[i] for i in order][:settings.limit or None]
    x, y, skipped = decode_all(root, files, size, progress, "images")
    test = None
    if split and settings.use_test_split:
        _, val_files = scan(split[1], classes)
        val_files = val_files[:settings.limit or None]
        if val_files:
            xv, yv, skipped_val = decode_all(root, val_files, size, progress, "validation images")
            test, skipped = (xv, yv), skipped + skipped_val
    notes = []
    if skipped:
        shown = ", ".join(skipped[:5]) + (" …" if len(skipped) > 5 else "")
        notes.append(f"Skipped {len(skipped)} unreadable image{'s' * (len(skipped) != 1)}: {shown}")
        report(progress, 1.0, notes[0])
    return split_and_finish(settings, name=root.name or str(root), kind="image", task="classification",
                            x=x, y=y, classes=classes, source=str(root), test=test, notes=notes)
