"""Studio's Trainer against a hand-written PyTorch loop, same process, interleaved.

Both train the seed CIFAR-10 CNN (samples/cifar10_cnn.studio.json) for one
epoch on the same random CIFAR-shaped uint8 images, batch 32, Adam:

  A  Studio: project → Trainer.run() (uint8 data, index_select batches,
     normalization per batch; images/s of the training phase as it reports it)
  B  hand-written: nn.Sequential + DataLoader(TensorDataset(normalized float32), shuffle=True),
     the idiomatic tutorial loop with loss.item() each batch

Rounds run A B, B A, A B, ... and the medians and their ratio (A/B) are printed.

    python bench/train_throughput.py                 # CPU, 10k images, 4 rounds
    python bench/train_throughput.py --device cuda   # Studio uses channels_last + bf16 autocast
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.data.dataset import Dataset  # noqa: E402
from studio.project.file import load  # noqa: E402
from studio.train.trainer import Trainer  # noqa: E402

SAMPLE = ROOT / "samples" / "cifar10_cnn.studio.json"


def make_data(n: int, n_val: int) -> Dataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n + n_val, 3, 32, 32), dtype=torch.uint8, generator=g)
    y = torch.randint(0, 10, (n + n_val,), generator=g)
    classes = [str(i) for i in range(10)]
    return Dataset("bench", "image", "classification", x[:n], y[:n], x[n:], y[n:], classes=classes,
                   mean=(0.49, 0.48, 0.45), std=(0.25, 0.24, 0.26))


def studio_round(data: Dataset, device: str, batch: int) -> float:
    project = load(SAMPLE)
    project.train.epochs, project.train.batch_size = 1, batch
    project.train.amp = "bf16" if device == "cuda" else "off"
    project.train.channels_last = device == "cuda"
    result = Trainer(project, data, device=device).run()
    if result.status != "finished":
        raise SystemExit(f"Studio run failed: {result.message}")
    return result.images_per_second


def seed_cnn() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(), nn.Linear(1024, 64),
                         nn.ReLU(), nn.Linear(64, 10))


def hand_round(x_float: torch.Tensor, y: torch.Tensor, device: str, batch: int) -> float:
    """The loop a PyTorch user writes by hand (CPU tensors, moved to the device per batch)."""
    model = seed_cnn().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_float, y), batch_size=batch,
                                         shuffle=True)
    model.train()
    running, seen = 0.0, 0
    start = time.perf_counter()
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        running += loss.item()
        seen += len(xb)
    if device == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps"))
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = torch's default)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = make_data(args.images, 256)
    mean = torch.tensor(data.mean).view(1, 3, 1, 1)
    std = torch.tensor(data.std).view(1, 3, 1, 1)
    x_float = (data.x_train.float() / 255 - mean) / std  # the usual pre-normalized float copy
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}, "
          f"{args.images} images, batch {args.batch}", flush=True)
    studio_round(make_data(512, 64), args.device, args.batch)  # warm-up: imports, allocator
    hand_round(x_float[:512], data.y_train[:512], args.device, args.batch)
    a, b = [], []
    for r in range(1, args.rounds + 1):
        # A B, then B A: alternating who goes first cancels slow drifts in machine load.
        runs = [("a", lambda: studio_round(data, args.device, args.batch)),
                ("b", lambda: hand_round(x_float, data.y_train, args.device, args.batch))]
        for name, fn in (runs if r % 2 else runs[::-1]):
            (a if name == "a" else b).append(fn())
        print(f"round {r}: studio {a[-1]:8.0f} img/s   hand-written {b[-1]:8.0f} img/s", flush=True)
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"median: studio {ma:.0f} img/s, hand-written {mb:.0f} img/s, ratio {ma / mb:.3f}")
    # Each round's two runs sit side by side in time, so their ratio shrugs off
    # load from other processes that comes and goes between rounds.
    paired = statistics.median(x / y for x, y in zip(a, b))
    print(f"median of per-round ratios: {paired:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
