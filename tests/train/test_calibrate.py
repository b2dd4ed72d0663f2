"""The CPU speed calibration: its choice, its cache, and bf16 precision (no timed assertions)."""
from __future__ import annotations


from pathlib import Path

import pytest
import torch
from hypothesis import given, settings, strategies as st

from studio.settings import TrainSettings, from_dict, to_dict
from studio.train import calibrate
from studio.train.calibrate import Cache, Knobs, Plan, candidates, choose, effective_precision, plan_for
from studio.train.trainer import Trainer

from tests.train.helpers import tiny_images

PLAIN, CL = Knobs(False, 2), Knobs(True, 2)
rng_before = None


def test_a_clearly_faster_candidate_is_chosen():
    knobs, speedup = choose({PLAIN: [1.0, 1.1, 1.0], CL: [0.6, 0.7, 0.6]}, PLAIN)
    assert knobs == CL and speedup == pytest.approx(1 / 0.6)


def test_plain_is_kept_when_the_gain_is_within_the_margin():
    assert choose({PLAIN: [1.0, 1.0, 1.0], CL: [0.97, 0.98, 0.96]}, PLAIN) == (PLAIN, 1.0)
    assert choose({PLAIN: [1.0], CL: [1.5]}, PLAIN) == (PLAIN, 1.0)


times = st.lists(st.floats(0.001, 10.0), min_size=1, max_size=5)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([CL, Knobs(False, 1), Knobs(True, 1), Knobs(True, 2, True)]), times),
       times)
def test_the_choice_is_never_slower_than_plain(others, plain_times):
    timings = {PLAIN: plain_times, **others}
    knobs, speedup = choose(timings, PLAIN)
    med = {k: sorted(v)[len(v) // 2] if len(v) % 2 else sum(sorted(v)[len(v) // 2 - 1:len(v) // 2 + 1]) / 2
           for k, v in timings.items()}
    assert med[knobs] <= med[PLAIN]
    assert knobs == PLAIN or med[knobs] < med[PLAIN] * (1 - calibrate.MARGIN)
    assert speedup >= 1.0


def test_candidates():
    assert candidates(1, False, False) == [Knobs(False, 1)]
    assert candidates(1, False, False, bf16=True) == [Knobs(False, 1), Knobs(False, 1, False, True)]
    assert candidates(2, True, False) == [Knobs(False, 2), Knobs(False, 1), Knobs(True, 2), Knobs(True, 1)]
    assert candidates(8, True, True)[-2:] == [Knobs(False, 8, True), Knobs(True, 8, True)]


def _conv_net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                               torch.nn.Linear(4 * 6 * 6, 3))


def _plan(cache, threads=1):
    x, y, net = torch.randn(4, 3, 8, 8), torch.tensor([0, 1, 2, 0]), _conv_net()
    torch.set_num_threads(threads)
    global rng_before
    rng_before = torch.get_rng_state()
    try:
        return plan_for(net, x, y, make_opt=lambda p: torch.optim.SGD(p, lr=0.1),
                        loss_fn=torch.nn.functional.cross_entropy,
                        precision="fp32", optimizer="sgd", conv_images=True, cache=cache)
    finally:
        torch.set_num_threads(1)


def test_calibration_is_cached_and_leaves_rng_and_threads_alone(tmp_path, monkeypatch):
    cache = Cache(tmp_path / "calibration.json")
    plan, problems = _plan(cache)
    assert plan.source == "calibrated" and problems == []
    # plain is always timed; channels_last unless its first step was hopeless (pruned)
    assert "contiguous, 1 thread" in plan.timings
    assert set(plan.timings) <= {"contiguous, 1 thread", "channels_last, 1 thread"}
    assert torch.equal(torch.get_rng_state(), rng_before) and torch.get_num_threads() == 1
    for _ in range(calibrate.SETTLED - 1):  # checked again until two agree (or SETTLED were made)
        plan, _ = _plan(cache)
        if plan.source == "cache":
            break
        assert torch.equal(torch.get_rng_state(), rng_before) and torch.get_num_threads() == 1
    monkeypatch.setattr(calibrate, "measure", lambda *a, **k: pytest.fail("measured again despite the cache"))
    again, _ = _plan(cache)
    assert again.source == "cache" and again.knobs == plan.knobs
    assert again.describe().endswith("(cached calibration)")


def test_a_cached_choice_is_only_reused_for_the_same_key(tmp_path, monkeypatch):
    cache = Cache(tmp_path / "calibration.json")
    while _plan(cache)[0].source != "cache":
        pass
    measured = []
    real = calibrate.measure
    monkeypatch.setattr(calibrate, "measure", lambda *a, **k: measured.append(1) or real(*a, **k))
    monkeypatch.setattr(calibrate, "load_bucket", lambda: "other")  # one thread: the load does not matter
    assert _plan(cache)[0].source == "cache" and not measured
    assert _plan(cache, threads=2)[0].source == "calibrated" and measured  # two: a busy machine is another key


def test_a_corrupt_cache_file_only_costs_a_calibration(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text("{not json")
    plan, _ = _plan(Cache(path))
    assert plan.source == "calibrated" and path.read_text().startswith("{")


def test_bf16_on_a_cpu_without_it_falls_back_to_fp32_and_says_why():
    cpu = torch.device("cpu")
    precision, note = effective_precision("bf16", cpu, lambda: (False, "no bf16 here"))
    assert (precision, note) == ("fp32", "precision bf16: no bf16 here")
    assert effective_precision("bf16", cpu, lambda: (True, "")) == ("bf16", "")
    assert effective_precision("fp16", cpu)[0] == "fp32" and "CUDA" in effective_precision("fp16", cpu)[1]
    assert effective_precision("fp32", cpu) == ("fp32", "")


def test_the_bf16_support_message_names_the_instructions(monkeypatch):
    monkeypatch.setattr(calibrate, "_cpu_flags", lambda: set())
    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        monkeypatch.setattr(torch.cpu, probe, lambda: False, raising=False)
    monkeypatch.setattr(calibrate.platform, "machine", lambda: "x86_64")
    ok, why = calibrate.cpu_bf16_support()
    assert not ok and "AVX512-BF16" in why and "AMX" in why and "fp32" in why


def test_the_trainer_reports_missing_bf16_and_trains_in_fp32(monkeypatch, tmp_path):
    from tests.train.helpers import mlp_project, blobs
    monkeypatch.setattr(calibrate, "cpu_bf16_support", lambda: (False, "this CPU has no bf16 instructions"))
    notes = []

    class Listener:
        def on_notice(self, text):
            notes.append(text)
    trainer = Trainer(mlp_project(precision="bf16", epochs=1), blobs(), device="cpu", callbacks=[Listener()])
    assert trainer.run().status == "finished"
    assert trainer.precision == "fp32" and trainer.amp_dtype is None
    assert notes == ["precision bf16: this CPU has no bf16 instructions"]


@pytest.mark.skipif(not calibrate.cpu_bf16_support()[0], reason="this CPU has no bf16 instructions")
def test_bf16_training_on_the_cpu_uses_autocast(monkeypatch):
    from tests.train.helpers import mlp_project, blobs
    monkeypatch.setattr(Trainer, "CALIBRATE", False)  # for this tiny MLP, calibration would pick fp32
    trainer = Trainer(mlp_project(precision="bf16", epochs=4, lr=1e-2), blobs(), device="cpu")
    result = trainer.run()
    assert result.status == "finished" and trainer.precision == "bf16" and trainer.amp_dtype == torch.bfloat16
    assert result.val_metric > 0.9


def test_a_conv_run_on_the_cpu_is_calibrated_and_restores_threads(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    from studio.graph.builder import sequential
    from studio.project.file import Project
    m, _ = sequential([("Conv2d", {"out_channels": 4, "kernel_size": 3}), "ReLU", "Flatten",
                       ("Linear", {"out_features": 10})], {"kind": "image", "channels": 3, "height": 32, "width": 32})
    project = Project(model=m, name="conv")
    project.train.epochs, project.train.batch_size = 1, 16
    torch.set_num_threads(1)
    trainer = Trainer(project, tiny_images(), device="cpu")
    assert trainer.run().status == "finished"
    assert trainer.plan.source == "calibrated" and (tmp_path / "studio" / "calibration.json").exists()
    assert trainer.channels_last == trainer.plan.knobs.channels_last
    assert torch.get_num_threads() == 1
    sources = []
    for _ in range(calibrate.SETTLED):
        again = Trainer(project, tiny_images(), device="cpu")
        assert again.run().status == "finished"
        sources.append(again.plan.source)
    assert sources[-1] == "cache"  # at the latest once SETTLED calibrations were made


def _scripted_measure(monkeypatch, runs):
    """measure() returns the next of `runs` (seconds per step per candidate) at each call."""
    runs = list(runs)

    def fake(cands, *a, **k):
        return {c: [t] for c, t in runs.pop(0).items() if c in cands}, []
    monkeypatch.setattr(calibrate, "measure", fake)
    return runs


def test_a_choice_is_cached_for_good_once_two_calibrations_agree(tmp_path, monkeypatch):
    cache = Cache(tmp_path / "calibration.json")
    left = _scripted_measure(monkeypatch, [{PLAIN: 0.01, CL: 0.006}, {PLAIN: 0.01, CL: 0.0062}])
    first, _ = _plan(cache, threads=2)
    assert first.source == "calibrated" and first.knobs == CL and len(first.history) == 1
    second, _ = _plan(cache, threads=2)  # one calibration is not trusted yet
    assert second.source == "calibrated" and second.knobs == CL and len(second.history) == 2
    assert "calibration 2 of this network" in second.describe()
    assert not left
    third, _ = _plan(cache, threads=2)
    assert third.source == "cache" and third.knobs == CL


def test_one_unlucky_calibration_is_outvoted(tmp_path, monkeypatch):
    """(Steps of milliseconds, as small networks take.) A slowdown while channels_last was timed made the first calibration keep plain;
    the next ones see it clearly faster, and the pooled timings pick it."""
    cache = Cache(tmp_path / "calibration.json")
    left = _scripted_measure(monkeypatch, [{PLAIN: 0.01, CL: 0.014}, {PLAIN: 0.01, CL: 0.006}, {PLAIN: 0.01, CL: 0.0062}])
    assert _plan(cache, threads=2)[0].knobs == PLAIN
    second, _ = _plan(cache, threads=2)  # pooled: CL (14 + 6) / 2 ms = 10 ms, no faster than plain
    assert second.knobs == PLAIN and second.source == "calibrated"
    third, _ = _plan(cache, threads=2)  # the two disagreed: measured a third time, CL's median is 6.2 ms
    assert third.knobs == CL and third.speedup == pytest.approx(1 / 0.62) and not left
    assert _plan(cache, threads=2)[0].source == "cache"  # SETTLED calibrations: trusted either way


def test_an_entry_from_before_the_checks_is_measured_once_more(tmp_path, monkeypatch):
    import json
    path = tmp_path / "calibration.json"
    _scripted_measure(monkeypatch, [{PLAIN: 0.01, CL: 0.006}])
    _plan(Cache(path), threads=2)
    doc = json.loads(path.read_text())
    for entry in doc.values():
        del entry["history"]  # the format of older versions: one calibration's timings
    path.write_text(json.dumps(doc))
    _scripted_measure(monkeypatch, [{PLAIN: 0.01, CL: 0.006}])
    again, _ = _plan(Cache(path), threads=2)
    assert again.source == "calibrated" and len(again.history) == 2 and again.knobs == CL


def test_the_older_amp_key_maps_to_precision():
    assert from_dict(TrainSettings, {"amp": "off"}, "training").precision == "fp32"
    assert from_dict(TrainSettings, {"amp": "bf16"}, "training").precision == "bf16"
    assert from_dict(TrainSettings, {"amp": "fp16", "precision": "bf16"}, "training").precision == "bf16"
    s = TrainSettings()
    assert s.precision == "fp32" and s.amp == "off" and "amp" not in to_dict(s)
    s.amp = "bf16"
    assert s.precision == "bf16"


def test_plan_describes_itself():
    assert "not calibrated" in Plan(Knobs(False, 2)).describe()
    text = Plan(Knobs(True, 1), "calibrated", 1.5, 0.4).describe()
    assert "channels_last, 1 thread" in text and "1.50x" in text and "0.4 s" in text


def test_a_knob_that_fails_here_is_dropped_with_a_note(tmp_path, monkeypatch):
    def no_compiler(*a, **k):
        raise RuntimeError("no C++ compiler found\nmore detail")
    monkeypatch.setattr(calibrate.torch, "compile", no_compiler)
    x, y = torch.randn(4, 3, 8, 8), torch.tensor([0, 1, 2, 0])
    plan, problems = plan_for(_conv_net(), x, y, make_opt=lambda p: torch.optim.SGD(p, lr=0.1),
                              loss_fn=torch.nn.functional.cross_entropy,
                              precision="fp32", optimizer="sgd", conv_images=True, try_compile=True,
                              cache=Cache(tmp_path / "c.json"))
    assert not plan.knobs.compile
    assert problems and all("torch.compile does not work here (no C++ compiler found)" in p for p in problems)


def test_bf16_that_is_not_faster_falls_back_to_fp32_and_says_so(tmp_path, monkeypatch):
    from tests.train.helpers import mlp_project, blobs
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(calibrate, "cpu_bf16_support", lambda: (True, ""))

    def fp32_wins(cands, *a, **k):  # what small layers measure: bf16 slower than fp32
        return {c: [2.0 if c.bf16 else 1.0] * 3 for c in cands}, []
    monkeypatch.setattr(calibrate, "measure", fp32_wins)
    trainer = Trainer(mlp_project(precision="bf16", epochs=1), blobs(), device="cpu")
    assert trainer.run().status == "finished"
    assert trainer.precision == "fp32" and trainer.amp_dtype is None and not trainer.plan.knobs.bf16
    assert any("not measurably faster than fp32" in n for n in trainer.notes)


def test_recurrent_networks_train_in_fp32_when_bf16_is_asked(tmp_path, monkeypatch):
    from studio.data.load import load_dataset
    from studio.project.file import load
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(calibrate, "cpu_bf16_support", lambda: (True, ""))
    project = load(Path(__file__).resolve().parents[2] / "samples" / "waves_lstm.studio.json")
    project.data.samples, project.train.epochs, project.train.precision = 100, 1, "bf16"
    trainer = Trainer(project, load_dataset(project.data), device="cpu")
    assert trainer.run().status == "finished"
    assert trainer.precision == "fp32" and not trainer.plan.knobs.bf16
    assert any("recurrent layers" in n for n in trainer.notes)


def test_a_channels_last_run_stops_and_resumes_exactly(tmp_path, monkeypatch):
    """Adam's moments come back from the checkpoint contiguous; the fused step needs
    them in the parameters' channels_last layout, or the resumed run drifts."""
    from tests.train.helpers import cnn_project
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(calibrate, "measure",
                        lambda cands, *a, **k: ({c: [0.5 if c.channels_last else 1.0] * 3 for c in cands}, []))
    data = tiny_images(96)
    full = Trainer(cnn_project(epochs=2), data, log_interval=0)
    full.run()
    assert full.channels_last

    class StopAt:
        def on_batch_end(self, e):
            if e.step == 7:
                first.stop()
    first = Trainer(cnn_project(epochs=2), data, out_dir=tmp_path / "run", callbacks=[StopAt()], log_interval=0)
    assert first.run().status == "stopped"
    second = Trainer(cnn_project(epochs=2), data, out_dir=tmp_path / "run", resume=True, log_interval=0)
    assert second.run().status == "finished"
    for k, v in full.model.state_dict().items():
        torch.testing.assert_close(second.model.state_dict()[k], v, rtol=0, atol=0)


def test_one_unlucky_first_step_does_not_drop_a_good_setting(monkeypatch):
    """The first timed step of a fast setting lands on a busy moment: it is timed once more
    before being pruned, and wins; a setting slow on both tries is still pruned."""
    slow_once = Knobs(True, 1)
    script = {PLAIN: [1.0] * 20, slow_once: [0.1, 9.0] + [0.5] * 20, CL: [0.1, 5.0, 5.0] + [5.0] * 20}

    class Scripted:
        def __init__(self, knobs, *a):
            self.knobs, self.times = knobs, list(script[knobs])

        def steps(self, n):
            return self.times.pop(0)

    monkeypatch.setattr(calibrate, "_Candidate", Scripted)
    timings, _ = calibrate.measure([PLAIN, slow_once, CL], None, None, None, None, None)
    assert set(timings) == {PLAIN, slow_once}  # CL: 5.0 twice, over PRUNE x the best (0.5)
    assert choose(timings, PLAIN)[0] == slow_once


def test_a_slow_network_is_trusted_after_one_calibration(tmp_path, monkeypatch):
    """Steps of half a second or more time reliably; calibrating again would cost many seconds."""
    cache = Cache(tmp_path / "calibration.json")
    left = _scripted_measure(monkeypatch, [{PLAIN: calibrate.SLOW_STEP * 2, CL: calibrate.SLOW_STEP * 1.5}])
    assert _plan(cache, threads=2)[0].source == "calibrated" and not left
    again, _ = _plan(cache, threads=2)
    assert again.source == "cache" and again.knobs == CL
