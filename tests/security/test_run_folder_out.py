"""Item 6: `studio train --out` never writes over a user's files: a folder that holds
anything but a Studio run is refused (exit 2, one line) before anything is written."""
from __future__ import annotations

import pytest

from .kit import assert_one_error_line, cli, tiny_project

USER_FILES = {"project.studio.json": "my own project", "meta.json": '{"mine": true}',
              "metrics.csv": "my,own\n1,2\n", "notes.txt": "thesis draft"}


def _contents(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("launch", [[], ["--nproc", "2"]], ids=["one process", "launcher"])
def test_a_folder_of_user_files_is_refused(tmp_path, capsys, launch):
    _, project = tiny_project(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    for name, text in USER_FILES.items():
        (mine / name).write_text(text)
    before = _contents(mine)
    code, out, err = cli(capsys, "train", project, "--out", mine, *launch)
    assert code == 2 and out == []
    assert_one_error_line(err, "not a Studio run folder", str(mine))
    assert _contents(mine) == before


def test_a_file_as_out_is_refused(tmp_path, capsys):
    _, project = tiny_project(tmp_path)
    target = tmp_path / "results"
    target.write_text("keep me")
    code, _, err = cli(capsys, "train", project, "--out", target)
    assert code == 2 and target.read_text() == "keep me"
    assert_one_error_line(err, "is not a folder")


def test_new_empty_and_earlier_run_folders_are_fine(tmp_path, capsys):
    _, project = tiny_project(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder in (tmp_path / "new", empty, empty):  # the last: a Studio run folder from before
        code, out, err = cli(capsys, "train", project, "--out", folder)
        assert code == 0, err
        assert (folder / "meta.json").exists() and '"status": "finished"' in out[-1]


def test_a_link_planted_in_a_run_folder_is_not_written_through(tmp_path, capsys):
    _, project = tiny_project(tmp_path)
    run = tmp_path / "run"
    assert cli(capsys, "train", project, "--out", run)[0] == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (run / "metrics.csv").unlink()
    (run / "metrics.csv").symlink_to(victim)
    code, _, err = cli(capsys, "train", project, "--out", run)
    assert code != 0 and victim.read_text() == "precious"
    assert_one_error_line(err, "symbolic link")
