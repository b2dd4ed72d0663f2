"""Studio's Trainer against hand-written PyTorch loops, same process, interleaved.

Each round trains one epoch of the same random CIFAR-shaped uint8 images
(no augmentation on either side) with, in an order that reverses every round
(A B C ..., then ... C B A):

  studio fp32   project -> Trainer.run(), default settings (CPU: the calibrated
                memory format / threads, from the cache filled by the warm-up run)
  studio bf16   the same with precision bf16
  hand fp32     nn.Module + DataLoader(TensorDataset(normalized float32), shuffle=True),
                the tutorial loop with loss.item() each batch
  hand cl       the same model and input in channels_last
  hand bf16     the same loop under torch.autocast(bfloat16)
  hand bf16+cl  both

and prints the medians, the three ratios the issue asks for (studio against
hand fp32, hand channels_last, hand bf16) and the machine's load average.

The hand loops run in this process, as every bench here compares: they then share
Studio's process-wide malloc setting (CPU runs reuse freed memory, see
studio/train/host_memory.py), a conservative comparison. --hand-in-child runs them
in a child process instead (started first, one run at a time, same interleaved
order), as a user's own script would run, without that setting.

    python bench/train_throughput.py                      # seed CNN, batch 32
    python bench/train_throughput.py --model resnet       # ResNet sample, batch 64
    python bench/train_throughput.py --threads 1          # both sides on one thread
    python bench/train_throughput.py --hand-in-child      # hand loops without Studio's malloc setting
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
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
from studio.train.calibrate import SETTLED, cpu_bf16_support  # noqa: E402
from studio.train.trainer import Trainer  # noqa: E402

SAMPLES = {"cnn": ROOT / "samples" / "cifar10_cnn.studio.json",
           "resnet": ROOT / "samples" / "cifar10_resnet.studio.json"}
DEFAULTS = {"cnn": dict(batch=32, images=4096), "resnet": dict(batch=64, images=512)}


def make_data(n: int, n_val: int) -> Dataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n + n_val, 3, 32, 32), dtype=torch.uint8, generator=g)
    y = torch.randint(0, 10, (n + n_val,), generator=g)
    classes = [str(i) for i in range(10)]
    return Dataset("bench", "image", "classification", x[:n], y[:n], x[n:], y[n:], classes=classes,
                   mean=(0.49, 0.48, 0.45), std=(0.25, 0.24, 0.26))


def studio_project(model: str, device: str, batch: int, precision: str):
    project = load(SAMPLES[model])
    t = project.train
    t.epochs, t.batch_size, t.precision, t.device = 1, batch, precision, device
    project.data.augment_crop, project.data.augment_flip = 0, False  # the hand loops do not augment
    return project


def studio_round(model: str, data: Dataset, device: str, batch: int, precision: str) -> tuple[float, str]:
    trainer = Trainer(studio_project(model, device, batch, precision), data, device=device)
    result = trainer.run()
    if result.status != "finished":
        raise SystemExit(f"Studio run failed: {result.message}")
    plan = trainer.plan.describe() if trainer.plan else f"{device}: channels_last={trainer.channels_last}"
    return result.images_per_second, "; ".join(trainer.notes) or plan


def seed_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(), nn.Linear(1024, 64),
                         nn.ReLU(), nn.Linear(64, 10))


def _cbr(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class Residual(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(*_cbr(c, c), *_cbr(c, c))

    def forward(self, x):
        return x + self.body(x)


def resnet9() -> nn.Module:
    """The ResNet sample (samples/cifar10_resnet.studio.json), written by hand."""
    return nn.Sequential(*_cbr(3, 64), *_cbr(64, 128), nn.MaxPool2d(2), Residual(128),
                         *_cbr(128, 256), nn.MaxPool2d(2), *_cbr(256, 512), nn.MaxPool2d(2), Residual(512),
                         nn.MaxPool2d(4), nn.Flatten(), nn.Linear(512, 10))


def hand_round(model_name: str, x_float, y, device: str, batch: int, cl: bool, bf16: bool) -> float:
    """The loop a PyTorch user writes by hand, with the sample's optimizer and loss."""
    torch.manual_seed(0)
    if model_name == "cnn":
        model = seed_cnn().to(device)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
    else:
        model = resnet9().to(device)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
        loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    if cl:
        model = model.to(memory_format=torch.channels_last)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_float, y), batch_size=batch,
                                         shuffle=True)
    model.train()
    running, seen = 0.0, 0
    start = time.perf_counter()
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        if cl:
            xb = xb.contiguous(memory_format=torch.channels_last)
        opt.zero_grad()
        with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        running += loss.item()
        seen += len(xb)
    if device == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - start)


def hand_worker(conn, model_name: str, images: int, device: str, batch: int, threads: int) -> None:
    """The hand loops in their own process: runs (cl, bf16) requests until None."""
    if threads:
        torch.set_num_threads(threads)
    data = make_data(images, 256)
    x_float = hand_input(data)
    hand_round(model_name, x_float[:2 * batch], data.y_train[:2 * batch], device, batch, False, False)
    conn.send("ready")
    while (job := conn.recv()) is not None:
        conn.send(hand_round(model_name, x_float, data.y_train, device, batch, *job))


def hand_input(data: Dataset) -> torch.Tensor:
    mean = torch.tensor(data.mean).view(1, 3, 1, 1)
    std = torch.tensor(data.std).view(1, 3, 1, 1)
    return (data.x_train.float() / 255 - mean) / std  # the usual pre-normalized float copy


def load_text() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=tuple(SAMPLES), default="cnn")
    ap.add_argument("--images", type=int, default=0, help="per epoch (default: cnn 4096, resnet 512)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--batch", type=int, default=0, help="default: cnn 32, resnet 64")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps"))
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = torch's default)")
    ap.add_argument("--no-bf16", action="store_true", help="skip the bf16 runs")
    ap.add_argument("--hand-in-child", action="store_true",
                    help="run the hand loops in a child process, without Studio's malloc setting")
    args = ap.parse_args(argv)
    args.same_process = not args.hand_in_child
    if args.threads:
        torch.set_num_threads(args.threads)
    images = args.images or DEFAULTS[args.model]["images"]
    batch = args.batch or DEFAULTS[args.model]["batch"]
    bf16_ok = args.device != "cpu" or cpu_bf16_support()[0]
    use_bf16 = bf16_ok and not args.no_bf16
    data = make_data(images, 256)
    if args.same_process:
        x_float = hand_input(data)

        def hand(cl: bool, bf16: bool) -> float:
            return hand_round(args.model, x_float, data.y_train, args.device, batch, cl, bf16)
    else:  # before Studio changes anything process-wide
        conn, child_conn = multiprocessing.get_context("spawn").Pipe()
        child = multiprocessing.get_context("spawn").Process(
            target=hand_worker, args=(child_conn, args.model, images, args.device, batch, args.threads), daemon=True)
        child.start()
        conn.recv()

        def hand(cl: bool, bf16: bool) -> float:
            conn.send((cl, bf16))
            return conn.recv()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}, model "
          f"{args.model}, {images} images, batch {batch}; {load_text()}", flush=True)
    if not bf16_ok:
        print("bf16: " + cpu_bf16_support()[1], flush=True)
    # Warm-up: imports, allocator, oneDNN kernels; Studio's calibration runs here until the
    # cached choice is settled (two calibrations agree, calibrate.SETTLED at most).
    warm = make_data(min(images, 8 * batch), 64)
    for prec in ("fp32", "bf16") if use_bf16 else ("fp32",):
        for _ in range(SETTLED + 1):
            t0 = time.perf_counter()
            _, plan = studio_round(args.model, warm, args.device, batch, prec)
            print(f"studio {prec} warm-up {time.perf_counter() - t0:.1f} s: {plan}", flush=True)
            if "cached calibration" in plan or args.device != "cpu":
                break
    if args.same_process:
        hand_round(args.model, x_float[:2 * batch], data.y_train[:2 * batch], args.device, batch, False, False)
    print("hand loops: " + ("in this process" if args.same_process else "in a child process"), flush=True)

    runs = {"studio fp32": lambda: studio_round(args.model, data, args.device, batch, "fp32")[0],
            "hand fp32": lambda: hand(False, False),
            "hand cl": lambda: hand(True, False)}
    if use_bf16:
        runs.update({
            "studio bf16": lambda: studio_round(args.model, data, args.device, batch, "bf16")[0],
            "hand bf16": lambda: hand(False, True),
            "hand bf16+cl": lambda: hand(True, True)})
    got: dict[str, list[float]] = {k: [] for k in runs}
    for r in range(1, args.rounds + 1):
        order = list(runs) if r % 2 else list(runs)[::-1]  # A B C, C B A: cancels slow drifts in load
        for name in order:
            got[name].append(runs[name]())
        print(f"round {r}: " + "  ".join(f"{k} {got[k][-1]:.0f}" for k in runs) + f"   ({load_text()})",
              flush=True)
    med = {k: statistics.median(v) for k, v in got.items()}
    print("median images/s: " + ", ".join(f"{k} {v:.0f}" for k, v in med.items()))
    for studio in [k for k in med if k.startswith("studio")]:
        base = [k for k in ("hand fp32", "hand cl", "hand bf16", "hand bf16+cl") if k in med]
        print(f"{studio}: " + ", ".join(f"{med[studio] / med[k]:.2f}x {k}" for k in base)
              + "   (per-round median vs hand fp32: "
              + f"{statistics.median(a / b for a, b in zip(got[studio], got['hand fp32'])):.2f}x)")
    print(f"after: {load_text()}")
    if not args.same_process:
        conn.send(None)
        child.join(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
