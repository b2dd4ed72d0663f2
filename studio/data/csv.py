"""Your own table: numeric feature columns plus one target column (stdlib csv, no pandas).

The first row is the header unless every cell in it is a number, in which case
columns are named "column 1", "column 2", …. The delimiter (comma, semicolon,
tab) is the one that splits the first lines evenly. `limit` keeps the first N data rows, in file order.
Features are used as they are (not standardised).
"""
from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import numpy as np
import torch

from studio.data.common import Progress, report, split_and_finish
from studio.data.dataset import DataError, Dataset
from studio.data.files import MB, read_regular

MAX_AUTO_CLASSES = 20      # integer targets with at most this many values are classes
MAX_CLASSES = 1000
MAX_SNIFF_LINES = 20
MAX_CSV_BYTES = 256 * MB   # its rows become Python strings first: about ten times that in memory
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _delimiter(sample: str) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of
    columns; the most columns wins, a comma when none does. Linear time:
    csv.Sniffer's regular expressions took over a minute on 64 kB of `"a,"a,…`."""
    lines = sample.splitlines()[:MAX_SNIFF_LINES + 1]
    if len(lines) > 1 and len(sample) == 65536:
        lines = lines[:-1]   # the last line may be cut
    best, best_width = ",", 1
    for delimiter in (",", ";", "\t"):
        try:
            widths = {len(row) for row in csv.reader(lines, delimiter=delimiter) if any(c.strip() for c in row)}
        except csv.Error:
            continue
        if len(widths) == 1 and (width := widths.pop()) > best_width:
            best, best_width = delimiter, width
    return best


def read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, cells) for each non-blank data row."""
    try:
        with io.StringIO(read_regular(path, MAX_CSV_BYTES).decode("utf-8-sig"), newline="") as f:
            delimiter = _delimiter(f.read(65536))
            f.seek(0)
            rows = [(i, [c.strip() for c in row]) for i, row in enumerate(csv.reader(f, delimiter=delimiter), 1)
                    if any(c.strip() for c in row)]
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a UTF-8 text file; save it as CSV (UTF-8)") from None
    except csv.Error as e:
        raise DataError(f"{path} is not valid CSV: {e}") from None
    if not rows:
        raise DataError(f"{path} is empty")
    first = rows[0][1]
    if all(_number(c) is not None for c in first):
        header = [f"column {i + 1}" for i in range(len(first))]
    else:
        header, rows = first, rows[1:]
    if not rows:
        raise DataError(f"{path} has a header but no data rows")
    if len(header) < 2:
        raise DataError(f"{path} has only one column; it needs feature columns and a target column "
                        "(is the delimiter a comma, semicolon or tab?)")
    for line, cells in rows:
        if len(cells) != len(header):
            raise DataError(f"{path} line {line} has {len(cells)} values, but the header has {len(header)} columns")
    return header, rows


def _find_target(header: list[str], target: str, path: Path) -> int:
    if not target.strip():
        return len(header) - 1
    if target in header:
        return header.index(target)
    folded = [i for i, name in enumerate(header) if name.casefold() == target.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    raise DataError(f"{path} has no column {target!r}; its columns are: {', '.join(header)}")


def _features(header, rows, target_col, path) -> np.ndarray:
    cols = [i for i in range(len(header)) if i != target_col]
    x = np.empty((len(rows), len(cols)), dtype=np.float32)
    for r, (line, cells) in enumerate(rows):
        for c, col in enumerate(cols):
            value = _number(cells[col])
            if value is None:
                what = "is empty" if not cells[col] else f"has {cells[col]!r}, not a number"
                raise DataError(
                    f"Column {header[col]!r} in {path} is not numeric: line {line} {what}. "
                    "Feature columns must hold numbers; remove the column, fill missing values, "
                    "or encode text as numbers")
            _check_float32(value, cells[col], header[col], line, path)
            x[r, c] = value
    return x


def _check_float32(value: float, text: str, name: str, line: int, path: Path) -> None:
    """Training is in float32: a larger value would silently become inf, then NaN losses."""
    if abs(value) > FLOAT32_MAX:
        raise DataError(f"Column {name!r} in {path}: line {line} has {text[:40]}, beyond the float32 "
                        "range (±3.4e38) Studio trains in; rescale the column")


def _target(values: list[str], lines: list[int], name: str, task: str, path: Path):
    """(task, labels or targets, class names) from the target column's text."""
    numbers = [_number(v) for v in values]
    numeric = all(n is not None for n in numbers)
    if task == "auto":
        whole = numeric and all(float(n).is_integer() for n in numbers)
        task = "classification" if not numeric or (whole and len(set(numbers)) <= MAX_AUTO_CLASSES) \
            else "regression"
    if task == "regression":
        if not numeric:
            bad = next(i for i, n in enumerate(numbers) if n is None)
            raise DataError(f"Regression needs a numeric target, but column {name!r} in {path} has "
                            f"{values[bad]!r} on line {lines[bad]}; choose classification instead")
        for n, v, line in zip(numbers, values, lines):
            _check_float32(n, v, name, line, path)
        return task, torch.tensor(numbers, dtype=torch.float32).reshape(-1, 1), []
    empty = [i for i, v in enumerate(values) if not v]
    if empty:
        raise DataError(f"Target column {name!r} in {path} is empty on line {lines[empty[0]]}")
    if numeric:   # classes in numeric order, named as written when whole numbers ("3", not "3.0")
        distinct = sorted(set(numbers))
        names = [str(int(v)) if float(v).is_integer() else repr(v) for v in distinct]
        index = {v: i for i, v in enumerate(distinct)}
        labels = [index[n] for n in numbers]
    else:
        names = sorted(set(values))
        index = {v: i for i, v in enumerate(names)}
        labels = [index[v] for v in values]
    if len(names) > MAX_CLASSES:
        raise DataError(f"Target column {name!r} in {path} has {len(names)} different values, too many "
                        "classes; choose regression to predict a number")
    if len(names) < 2:
        raise DataError(f"Target column {name!r} in {path} has only one value ({names[0]!r}); "
                        "classification needs at least two classes")
    return task, torch.tensor(labels, dtype=torch.int64), names


def load_csv(settings, progress: Progress = None) -> Dataset:
    if not settings.path.strip():
        raise DataError("Choose the CSV file to train on")
    path = Path(os.path.expanduser(settings.path)).resolve()
    if not path.is_file():
        raise DataError(f"CSV file {path} does not exist" if not path.exists() else f"{path} is not a file")
    report(progress, 0.0, f"Reading {path.name}")
    header, rows = read_rows(path)
    if settings.limit:
        rows = rows[:settings.limit]
    target_col = _find_target(header, settings.target, path)
    x = _features(header, rows, target_col, path)
    task, y, classes = _target([cells[target_col] for _, cells in rows], [line for line, _ in rows],
                               header[target_col], settings.task, path)
    features = [h for i, h in enumerate(header) if i != target_col]
    return split_and_finish(settings, name=path.stem, kind="vector", task=task, x=torch.from_numpy(x), y=y,
                            classes=classes, source=f"{path} (target {header[target_col]!r}; features "
                            f"{', '.join(features[:8])}{' …' if len(features) > 8 else ''})")
