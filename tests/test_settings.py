"""Dataset and training settings read from project files."""
from __future__ import annotations

import dataclasses

import pytest

from studio.settings import DataSettings, SettingsError, TrainSettings, check, from_dict, to_dict


def test_defaults_round_trip():
    for cls in (DataSettings, TrainSettings):
        obj = cls()
        assert from_dict(cls, to_dict(obj), "x") == obj


def test_ints_are_accepted_for_floats_and_kept_as_float():
    t = from_dict(TrainSettings, {"lr": 1, "gamma": 0}, "training")
    assert t.lr == 1.0 and isinstance(t.lr, float)


@pytest.mark.parametrize("data,msg", [
    ([], "training must be an object"),
    ({"speed": 3}, "training.speed is not a known setting"),
    ({"_choices": {}}, "training._choices is not a known setting"),
    ({"epochs": 2.5}, "training.epochs must be a int, got 2.5"),
    ({"epochs": True}, "training.epochs must be a int, got True"),
    ({"nesterov": 1}, "training.nesterov must be a bool, got 1"),
    ({"lr": 10**400}, "training.lr must be a float"),
    ({"lr": float("nan")}, "training.lr must be a float"),
    ({"optimizer": "lbfgs"}, "training.optimizer must be one of sgd, adam, adamw, rmsprop, got 'lbfgs'"),
    ({"batch_size": 0}, "training.batch_size must be between 1 and 1.04858e+06, got 0"),
    ({"momentum": 1.5}, "training.momentum must be between 0 and 1, got 1.5"),
])
def test_bad_training_settings_say_which_key(data, msg):
    with pytest.raises(SettingsError) as ei:
        from_dict(TrainSettings, data, "training")
    assert str(ei.value).startswith(msg)


def test_data_settings_check_choices_and_ranges():
    with pytest.raises(SettingsError, match="data.dataset must be one of"):
        from_dict(DataSettings, {"dataset": "imagenet"}, "data")
    with pytest.raises(SettingsError, match="data.val_split must be between 0 and 0.9"):
        from_dict(DataSettings, {"val_split": 0.95}, "data")
    assert check(DataSettings, "samples", 500) == 500


def test_every_field_has_a_type_check():
    for cls in (DataSettings, TrainSettings):
        for f in dataclasses.fields(cls):
            with pytest.raises(SettingsError):
                check(cls, f.name, object())
