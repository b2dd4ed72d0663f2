"""The Digits bundled with scikit-learn: offline, grey 8×8 uint8 images, ten classes."""
import torch

from studio.data.load import describe_datasets, load_dataset, preview
from studio.settings import DataSettings


def test_digits_load_offline_as_grey_images_in_ten_classes():
    d = load_dataset(DataSettings(dataset="digits", val_split=0.2, samples=50))  # samples: generated sets only
    assert (d.kind, d.task, d.sample_shape, d.classes) == ("image", "classification", (1, 8, 8),
                                                            [str(i) for i in range(10)])
    assert len(d.x_train) + len(d.x_val) == 1797 and len(d.x_val) == 359
    assert d.x_train.dtype == torch.uint8 and int(d.x_train.max()) == 255 and int(d.x_train.min()) == 0
    counts = torch.bincount(torch.cat([d.y_train, d.y_val]), minlength=10)
    assert counts.min() >= 170 and counts.max() <= 190  # about 180 of each digit
    assert len(d.mean) == 1 and 0.1 < d.mean[0] < 0.5 and d.std[0] > 0.2
    again = load_dataset(DataSettings(dataset="digits", val_split=0.2))
    assert torch.equal(d.x_val, again.x_val) and torch.equal(d.y_train, again.y_train)


def test_digits_are_offline_and_previewed_as_grey_images():
    row = next(r for r in describe_datasets() if r[0] == "digits")
    assert row[4] and not row[3]   # offline, no path
    d = load_dataset(DataSettings(dataset="digits", limit=100, val_split=0.1))
    assert (len(d.x_train), len(d.x_val)) == (90, 10)
    image, label = preview(d, 4)[0]
    assert image.shape == (8, 8) and label in d.classes


def test_pre_run_check_knows_the_digits_training_count_without_loading():
    from studio.train.precheck import expected_train_examples
    for settings in (DataSettings(dataset="digits", val_split=0.2), DataSettings(dataset="digits", limit=500)):
        assert expected_train_examples(settings) == len(load_dataset(settings).x_train)
