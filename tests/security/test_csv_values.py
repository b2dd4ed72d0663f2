"""CSV tables: values beyond float32 are refused naming line and column, never silently inf."""
import warnings

import pytest

from studio.data.dataset import DataError
from studio.data.load import load_dataset
from studio.settings import DataSettings
from tests.security import data_hostile as H


def _table(tmp_path, rows, header="a,b,y"):
    path = tmp_path / "table.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_feature_beyond_float32_is_refused_through_the_cli(tmp_path):
    """Before: 1e39 became inf (plus a numpy overflow warning line on stderr); the run went on."""
    path = _table(tmp_path, [f"{i * 0.1},{1e39 if i == 5 else i},{i % 2}" for i in range(40)])
    H.assert_refused(H.studio_train(tmp_path, {"dataset": "csv", "path": str(path)}),
                     "Column 'b'", "line 7", "1e+39", "float32")


@pytest.mark.parametrize("value", ["1e39", "-3.5e38", "3.4028236e38"])
@pytest.mark.parametrize("column", ["feature", "target"])
def test_values_beyond_float32_are_refused_with_line_and_column(tmp_path, value, column):
    rows = [f"{i},{value if column == 'feature' and i == 3 else i},"
            f"{value if column == 'target' and i == 3 else i * 0.37}" for i in range(30)]
    path = _table(tmp_path, rows)
    name = "b" if column == "feature" else "y"
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no overflow warning may escape either
        with pytest.raises(DataError, match=f"Column '{name}' .*line 5 has {value}, beyond the float32"):
            load_dataset(DataSettings(dataset="csv", path=str(path), task="regression"))


def test_largest_float32_and_tiny_values_still_load(tmp_path):
    rows = [f"{i},{3.4028234e38 if i == 3 else 1e-50},{i * 0.5}" for i in range(30)]
    d = load_dataset(DataSettings(dataset="csv", path=str(_table(tmp_path, rows)), task="regression"))
    assert bool(d.x_train.isfinite().all()) and bool(d.y_train.isfinite().all())


def test_csv_larger_than_the_limit_is_refused_without_reading_it_all(tmp_path, monkeypatch):
    from studio.data import csv as csv_source
    monkeypatch.setattr(csv_source, "MAX_CSV_BYTES", 100)
    path = _table(tmp_path, [f"{i},{i},{i % 2}" for i in range(100)])
    with pytest.raises(DataError, match="larger than"):
        load_dataset(DataSettings(dataset="csv", path=str(path)))


@pytest.mark.parametrize("pattern", ['"a,', ',"'])
def test_pathological_text_does_not_hang_delimiter_detection(tmp_path, pattern):
    """Before: csv.Sniffer's regular expressions took 42 s and 68 s on these 64 kB files."""
    path = tmp_path / "slow.csv"
    path.write_text(pattern * 22000)
    H.assert_refused(H.studio_train(tmp_path, {"dataset": "csv", "path": str(path)}, timeout=60), "slow.csv")


def test_delimiters_are_still_found(tmp_path):
    from studio.data.csv import read_rows
    for delimiter in (",", ";", "\t"):
        path = tmp_path / "t.csv"
        path.write_text(delimiter.join(["x", "note", "y"]) + "\n" +
                        "\n".join(delimiter.join([str(i), '"a, b; c"', str(i % 2)]) for i in range(5)) + "\n")
        header, rows = read_rows(path)
        assert header == ["x", "note", "y"] and rows[0][1] == ["0", "a, b; c", "0"]
