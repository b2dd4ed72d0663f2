"""How fast fp32 training can be on this CPU at all, against what the hand loop and Studio reach.

The ceiling: the floating-point work of one training step (forward and backward, counted by
torch.utils.flop_counter over every matmul and convolution), divided into this machine's fp32
matrix-multiply rate (a large square torch.mm on the same threads, the best case for any fp32
kernel here). No fp32 run can train more images per second than that, whatever its memory
format, fusion or scheduling; only fewer or cheaper operations (bf16, AMX) can.

Hand loop and Studio run interleaved in this process (as in train_throughput.py), and the
report says which multiple of the hand loop the ceiling still allows.

    python bench/fp32_ceiling.py                   # seed CNN, batch 32
    python bench/fp32_ceiling.py --model resnet    # ResNet sample, batch 64
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_throughput import (DEFAULTS, SAMPLES, hand_input, hand_round, load_text, make_data,  # noqa: E402
                              resnet9, seed_cnn, studio_round)


def step_flops(model: nn.Module, batch: int, label_smoothing: float = 0.0) -> int:
    """Floating-point operations of one training step (forward and backward) at `batch`."""
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    counter = FlopCounterMode(display=False)
    with counter:
        nn.functional.cross_entropy(model(x), y, label_smoothing=label_smoothing).backward()
    return counter.get_total_flops()


def matmul_rate(n: int = 2048, reps: int = 15) -> float:
    """fp32 FLOP/s of an n×n matmul, median of `reps`."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n ** 3 / statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=tuple(SAMPLES), default="cnn")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--target", type=float, default=1.8, help="the multiple of the hand loop asked for")
    args = ap.parse_args(argv)
    batch, images = DEFAULTS[args.model]["batch"], DEFAULTS[args.model]["images"]
    net = seed_cnn() if args.model == "cnn" else resnet9()
    flops = step_flops(net, batch, 0.0 if args.model == "cnn" else 0.1) / batch
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, model {args.model}, batch {batch}; "
          f"{load_text()}")
    print(f"work per image (forward + backward): {flops / 1e6:.1f} MFLOP")
    data = make_data(images, 256)
    x_float = hand_input(data)
    studio_round(args.model, make_data(min(images, 8 * batch), 64), "cpu", batch, "fp32")  # warm-up, calibration
    hand_round(args.model, x_float[:2 * batch], data.y_train[:2 * batch], "cpu", batch, False, False)
    runs = {"peak": lambda: matmul_rate() / flops,
            "hand fp32": lambda: hand_round(args.model, x_float, data.y_train, "cpu", batch, False, False),
            "studio fp32": lambda: studio_round(args.model, data, "cpu", batch, "fp32")[0]}
    got = {k: [] for k in runs}
    for r in range(args.rounds):
        for name in (list(runs) if r % 2 == 0 else list(runs)[::-1]):
            got[name].append(runs[name]())
    med = {k: statistics.median(v) for k, v in got.items()}
    ceiling, hand, studio = med["peak"], med["hand fp32"], med["studio fp32"]
    print(f"fp32 matmul rate: {ceiling * flops / 1e9:.0f} GFLOP/s -> ceiling {ceiling:.0f} images/s")
    for name, ips in (("hand fp32", hand), ("studio fp32", studio)):
        print(f"{name}: {ips:.0f} images/s = {ips * flops / 1e9:.0f} GFLOP/s, {ips / ceiling:.0%} of the ceiling")
    need = args.target * hand
    print(f"studio / hand fp32: {studio / hand:.2f}x; the ceiling allows at most {ceiling / hand:.2f}x")
    print(f"{args.target}x hand would need {need:.0f} images/s = {need / ceiling:.0%} of the ceiling"
          + ("  (above it: not reachable in fp32)" if need > ceiling else ""))
    print(f"after: {load_text()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
