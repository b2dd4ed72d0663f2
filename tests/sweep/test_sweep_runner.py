"""A small sweep through the real trainer, in process: optuna picks, the Trainer
trains, every trial is an ordinary run folder."""
import json

import optuna
import pytest

from studio.project.file import load, loads
from studio.sweep.runner import SweepConfig, SweepRunner, check_budget
from studio.sweep.study import SweepError, grid_size, open_study
from tests.sweep.sweep_helpers import LR, WIDTH, spiral_doc, write_project


def test_sweep_finds_a_better_configuration_than_its_worst_trial(tmp_path):
    # A learning rate far too small learns nothing in a few epochs; a good one does.
    lr = {"target": "training", "param": "lr", "kind": "choice", "choices": [1e-6, 0.03]}
    width = {"node": "linear1", "param": "out_features", "kind": "choice", "choices": [8, 32]}
    path = write_project(tmp_path, [lr, width], strategy="grid", trials=0, epochs=4, samples=300)
    project = load(path)
    runner = SweepRunner(project, project.sweep, SweepConfig(tmp_path / "runs", trials=grid_size(project.sweep)))
    ran = runner.run()
    assert sorted(tuple(sorted(i.params.items())) for i in ran) == sorted(
        tuple(sorted({"training.lr": a, "linear1.out_features": b}.items())) for a in (1e-6, 0.03) for b in (8, 32))
    study = runner.study
    values = [t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(values) == 4
    best = study.best_trial
    assert best.value > min(values) + 0.1, values
    assert best.params["training.lr"] == 0.03
    # The best trial is an ordinary run: its project copy holds the exact values.
    folder = tmp_path / "runs" / "sweep" / f"trial-{best.number:04d}"
    assert best.user_attrs["run"]["folder"] == str(folder)
    for name in ("best.safetensors", "metrics.csv", "project.studio.json", "meta.json"):
        assert (folder / name).exists(), name
    copy = load(folder / "project.studio.json")
    assert copy.train.lr == 0.03 and copy.model.params("linear1")["out_features"] == best.params[
        "linear1.out_features"]
    assert copy.sweep is None
    assert best.user_attrs["run"]["params"] > 0 and best.user_attrs["run"]["macs"] > 0


def test_multi_objective_records_cost_and_a_pareto_front(tmp_path):
    path = write_project(tmp_path, [WIDTH], cost="params", trials=3, epochs=1)
    project = load(path)
    runner = SweepRunner(project, project.sweep, SweepConfig(tmp_path / "runs", trials=3))
    runner.run()
    study = runner.study
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) == 3
    for t in done:
        assert t.values[1] == t.user_attrs["run"]["params"]
    assert 1 <= len(study.best_trials) <= 3


def test_pruner_stops_hopeless_trials_from_their_epoch_curve(tmp_path):
    lr = {"target": "training", "param": "lr", "kind": "choice", "choices": [0.03, 1e-7]}
    path = write_project(tmp_path, [lr], strategy="random", trials=6, epochs=4, pruner="median")
    project = load(path)
    study = open_study(tmp_path / "runs", "sweep", project, project.sweep)
    for _ in range(3):  # the median needs finished trials to compare against
        study.enqueue_trial({"training.lr": 0.03})
    study.enqueue_trial({"training.lr": 1e-7})
    runner = SweepRunner(project, project.sweep, SweepConfig(tmp_path / "runs", trials=4))
    runner.study = study
    ran = runner.run()
    assert [i.state for i in ran] == ["complete"] * 3 + ["pruned"]
    assert ran[-1].epochs < 4
    assert study.trials[-1].state == optuna.trial.TrialState.PRUNED


def test_budget_and_dimensions_are_required(tmp_path):
    project = loads(json.dumps(spiral_doc([LR])))
    with pytest.raises(SweepError, match="no budget"):
        check_budget(project.sweep, 0, 0)
    project.sweep.dimensions = []
    with pytest.raises(SweepError, match="no search dimensions"):
        check_budget(project.sweep, 3, 0)


def test_resuming_with_a_changed_space_is_refused(tmp_path):
    project = loads(json.dumps(spiral_doc([LR])))
    open_study(tmp_path, "sweep", project, project.sweep)
    project.sweep.dimensions[0].high = 0.5
    with pytest.raises(SweepError, match="different space"):
        open_study(tmp_path, "sweep", project, project.sweep)


def test_time_budget_stops_starting_trials(tmp_path):
    path = write_project(tmp_path, [LR], trials=0, epochs=1)
    project = load(path)
    runner = SweepRunner(project, project.sweep, SweepConfig(tmp_path / "runs", timeout=0.001))
    ran = runner.run()
    assert len(ran) == 1  # the trial in progress finishes; no other starts
    assert len(runner.study.trials) == 1


def test_stop_queues_the_trial_again_and_a_later_run_continues(tmp_path):
    from studio.sweep.runner import summary
    path = write_project(tmp_path, [WIDTH, LR], trials=2, epochs=3)
    project = load(path)

    class StopAfterFirstEpoch:  # what the app's Stop button does, from the trainer's thread
        def on_epoch_end(self, e):
            runner.stop()

    runner = SweepRunner(project, project.sweep, SweepConfig(tmp_path / "runs", trials=2),
                         trainer_callbacks=[StopAfterFirstEpoch()])
    ran = runner.run()
    assert [(i.state, i.epochs) for i in ran] == [("interrupted", 1)]
    again = SweepRunner(project, project.sweep, SweepConfig(tmp_path / "runs", trials=2))
    ran2 = again.run()
    assert [i.state for i in ran2] == ["complete", "complete"]
    assert ran2[0].params == ran[0].params  # the stopped trial, run again
    counts = summary(again.study)["trials"]
    assert counts["complete"] == 2 and counts["interrupted"] == 1 and counts["failed"] == 0


def test_results_rows_for_the_views(tmp_path):
    from studio.sweep import results
    path = write_project(tmp_path, [WIDTH], cost="params", trials=2, epochs=2)
    project = load(path)
    SweepRunner(project, project.sweep, SweepConfig(tmp_path / "runs", trials=2)).run()
    res = results.load(tmp_path / "runs", "sweep")
    assert res.cost == "params" and res.multi and res.maximize
    assert [r.state for r in res.rows] == ["complete", "complete"]
    row = res.rows[0]
    assert row.project_file is not None and row.cost["params"] > 0 and row.epochs == 2
    x, y = results.read_curve(row.folder)
    assert list(x) == [1.0, 2.0] and 0 <= y[-1] <= 1
    assert results.pareto_front([(0.9, 10), (0.8, 5), (0.95, 20), (0.85, 15), (0.7, 6)], True) == [1, 0, 2]
    assert results.pareto_front([(0.3, 10), (0.5, 5), (0.6, 7)], False) == [1, 0]  # MAE: lower is better
