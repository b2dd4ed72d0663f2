"""DistributedTrainer in this process as a 1-rank gloo job: the DDP wrapper,
sharded image batches, buffer broadcast, all-reduces and checkpoints, without
starting processes. With one rank it must train exactly like the plain Trainer."""
import torch
import torch.distributed as dist

from studio.data.dataset import Dataset
from studio.graph.builder import sequential
from studio.project.file import Project
from studio.train.checkpoint import load_checkpoint
from studio.train.distributed import DistEnv, DistributedTrainer
from studio.train.trainer import Trainer


def images(n=48, classes=3):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, 3, 8, 8), dtype=torch.uint8, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    return Dataset("Tiny", "image", "classification", x[:36], y[:36], x[36:], y[36:],
                   classes=[f"c{i}" for i in range(classes)], mean=(0.5,) * 3, std=(0.25,) * 3)


def bn_project(epochs):
    m, _ = sequential([("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), "BatchNorm2d", "ReLU",
                       ("MaxPool2d", {"kernel_size": 4}), "Flatten", ("Linear", {"out_features": 3})])
    p = Project(model=m, name="bn")
    p.train.batch_size, p.train.epochs, p.train.device = 12, epochs, "cpu"
    p.data.augment_flip = True
    return p


def test_one_rank_trains_like_the_plain_trainer_and_resumes(tmp_path):
    plain = Trainer(bn_project(3), images(), out_dir=tmp_path / "plain").run()
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        group, env = dist.new_group(), DistEnv(0, 1, 0, 1)
        out = tmp_path / "ddp"
        first = DistributedTrainer(bn_project(2), images(), env, group, out_dir=out, device="cpu")
        assert first.run().status == "finished", first.error
        assert all(not k.startswith("module.") for k in load_checkpoint(out)[0])
        resumed = DistributedTrainer(bn_project(3), images(), env, group, out_dir=out, device="cpu", resume=True)
        result = resumed.run()
    finally:
        dist.destroy_process_group()
    assert result.status == "finished" and result.epochs == 3, resumed.error
    assert result.val_metric == plain.val_metric
    assert abs(result.train_loss - plain.train_loss) < 1e-5
    assert int(resumed.confusion.sum()) == 12
