"""CSV tables: task detection, class names, and clear errors for bad files."""
import pytest
import torch

from studio.data.dataset import DataError
from studio.data.load import load_dataset
from studio.settings import DataSettings


def write(tmp_path, text, name="table.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(path, **kw):
    return load_dataset(DataSettings(dataset="csv", path=str(path), val_split=0.25, **kw))


def test_text_target_is_classification(tmp_path):
    rows = "\n".join(f"{i * 0.1:.1f},{i % 3},{['setosa', 'virginica'][i % 2]}" for i in range(20))
    d = load(write(tmp_path, "petal,width,species\n" + rows + "\n\n"))
    assert (d.kind, d.task, d.classes, d.sample_shape) == ("vector", "classification", ["setosa", "virginica"], (2,))
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    assert (len(d.x_train), len(d.x_val)) == (15, 5) and d.num_outputs == 2


def test_few_integers_are_classes_many_floats_are_regression(tmp_path):
    rows = "\n".join(f"{i},{i * 2}.5,{i % 4}" for i in range(40))
    d = load(write(tmp_path, "a,b,label\n" + rows))
    assert d.task == "classification" and d.classes == ["0", "1", "2", "3"]
    d = load(write(tmp_path, "a,price,b\n" + "\n".join(f"{i},{i * 1.37},{i % 4}" for i in range(40))),
             target="price")
    assert d.task == "regression" and d.y_train.shape == (30, 1) and d.y_train.dtype == torch.float32
    assert d.classes == [] and d.num_outputs == 1 and d.sample_shape == (2,)
    many = "\n".join(f"{i},{i * 3}" for i in range(40))   # 40 distinct integers: regression
    assert load(write(tmp_path, "x,y\n" + many)).task == "regression"
    assert load(write(tmp_path, "x,y\n" + many), task="classification").num_outputs == 40


def test_semicolons_and_no_header(tmp_path):
    d = load(write(tmp_path, "\n".join(f"{i};{-i};{i % 2}" for i in range(12))))
    assert d.sample_shape == (2,) and d.classes == ["0", "1"] and len(d.x_train) == 9


def test_target_column_missing_lists_columns(tmp_path):
    path = write(tmp_path, "alpha,beta,gamma\n1,2,3\n4,5,6\n")
    with pytest.raises(DataError, match="no column 'delta'.*alpha, beta, gamma"):
        load(path, target="delta")


def test_non_numeric_feature_names_column_and_line(tmp_path):
    path = write(tmp_path, "size,colour,label\n1,2,a\n3,4,b\n5,red,a\n")
    with pytest.raises(DataError, match="'colour'.*line 4.*'red'"):
        load(path)


def test_empty_missing_and_ragged_files(tmp_path):
    with pytest.raises(DataError, match="is empty"):
        load(write(tmp_path, "\n\n"))
    with pytest.raises(DataError, match="no data rows"):
        load(write(tmp_path, "a,b\n"))
    with pytest.raises(DataError, match="does not exist"):
        load(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="line 3 has 2 values"):
        load(write(tmp_path, "a,b,c\n1,2,3\n4,5\n"))
    with pytest.raises(DataError, match="numeric target"):
        load(write(tmp_path, "a,b\n1,x\n2,y\n"), task="regression")
    with pytest.raises(DataError, match="UTF-8"):
        path = tmp_path / "latin.csv"
        path.write_bytes(b"a,b\n1,\xe9\xff\xfe\n")
        load(path)
