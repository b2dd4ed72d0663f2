"""`studio train --precision`: the flag reaches the trainer, the summary says what
ran, and a CPU without bf16 gets a plain sentence on stderr (not a failure)."""
import json

from studio.cli.main import main
from studio.train import calibrate

from tests.cli.test_cli_train import SAMPLE, write_cifar


def test_precision_bf16_on_a_cpu_without_it_says_so_and_trains_fp32(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(calibrate, "cpu_bf16_support", lambda: (False, "this CPU has no bf16 instructions"))
    write_cifar(tmp_path / "data")
    code = main(["train", SAMPLE, "--data-dir", str(tmp_path / "data"), "--epochs", "1", "--device", "cpu",
                 "--precision", "bf16", "--out", str(tmp_path / "run")])
    out, err = capsys.readouterr()
    assert code == 0
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["precision"] == "fp32" and summary["status"] == "finished"
    assert "precision bf16: this CPU has no bf16 instructions" in err
    assert "speed settings:" in summary["speed"]


def test_precision_must_be_a_known_one(capsys):
    assert main(["train", SAMPLE, "--precision", "fp8"]) == 2
    assert "--precision" in capsys.readouterr().err
