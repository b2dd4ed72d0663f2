"""Fast, in-process checks of the distributed pieces (no processes started)."""
import argparse
import signal

import pytest
import torch

from studio.cli.main import main
from studio.data.batches import Batcher
from studio.train.distributed import DistEnv, ShardedBatcher, parse_fault
from studio.cli.launch import describe_failure, worker_argv

SAMPLE = "samples/spiral_mlp.studio.json"


def shards(n, batch, world, **kw):
    x, y = torch.arange(n).float().view(n, 1), torch.arange(n)
    return [ShardedBatcher(x, y, batch // world, rank=r, world_size=world, **kw) for r in range(world)]


@pytest.mark.parametrize("n", [100, 101, 103])
def test_ranks_together_see_the_single_process_batches(n):
    world, batch = 2, 8
    single = Batcher(torch.arange(n).float().view(n, 1), torch.arange(n), batch, shuffle=True, seed=5)
    ranks = shards(n, batch, world, equal_shares=True, shuffle=True, seed=5)
    assert len({len(b) for b in ranks}) == 1 and len({b.n for b in ranks}) == 1  # collectives line up
    per_rank = [list(b.batches(epoch=3)) for b in ranks]
    for k, (idx, _, _) in enumerate(single.batches(epoch=3)):
        joined = torch.cat([per_rank[r][k][0] for r in range(world)])
        if k < len(ranks[0]) - 1 or n % world == 0:
            assert sorted(joined.tolist()) == sorted(idx.tolist())  # global batch k, exactly
    seen = torch.cat([i for b in per_rank for i, _, _ in b])
    assert len(seen) == len(set(seen.tolist())) == n - n % world  # disjoint; at most world-1 dropped


def test_validation_shards_cover_everything_once():
    ranks = shards(101, 8, 3, equal_shares=False)
    seen = sorted(i for b in ranks for idx, _, _ in b.batches() for i in idx.tolist())
    assert seen == list(range(101))


def test_env_and_fault_parsing():
    assert DistEnv.from_environ({}) is None
    env = DistEnv.from_environ({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"})
    assert (env.rank, env.world_size, env.local_rank, env.local_world_size) == (3, 4, 1, 2)
    assert parse_fault("1:20:3") == (1, 20, 3) and parse_fault("") is None


def test_worker_argv_drops_launch_options():
    from studio.cli.main import build_parser
    args = build_parser().parse_args(["--debug", "train", SAMPLE, "--nproc", "2", "--master-port", "1234",
                                      "--epochs", "3", "--resume", "--ddp-timeout", "5"])
    argv = worker_argv(args, "runs/x")
    assert argv[:3] == ["--debug", "train", SAMPLE]
    assert "--nproc" not in argv and "--master-port" not in argv
    assert argv[argv.index("--epochs") + 1] == "3" and "--resume" in argv and argv[-2:] == ["--out", "runs/x"]
    assert argv[argv.index("--ddp-timeout") + 1] == "5.0"


def test_failure_names_the_rank_that_died_not_the_ones_stopped_after_it():
    def failure(local_rank, code):
        return argparse.Namespace(local_rank=local_rank, pid=100 + local_rank, exitcode=code, timestamp=7,
                                  error_file="<N/A>", message="",
                                  signal_name=lambda: signal.Signals(-code).name)
    err = argparse.Namespace(failures={0: failure(0, -signal.SIGTERM), 1: failure(1, 3), 2: failure(0, 75)})
    code, message = describe_failure(err)
    assert code == 1 and message.startswith("worker rank 1 (local rank 1, pid 101) exited with code 3")
    assert "ranks 0, 2 stopped after it" in message


def test_global_batch_must_divide_among_processes(capsys):
    code = main(["train", SAMPLE, "--nproc", "3", "--epochs", "1"])
    assert code == 2 and "must divide evenly among 3 processes" in capsys.readouterr().err


def test_nproc_inside_a_torchrun_worker_is_refused(monkeypatch, capsys):
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["train", SAMPLE, "--nproc", "2"]) == 2
    assert "started by torchrun already" in capsys.readouterr().err
