"""Mutation fuzz of the files Studio reads back: weights (.safetensors and .pt),
checkpoints, run history (JSON + CSV) and meta.json.

Seeds are real files written by Studio itself; each case mutates one (bit flips,
hostile tokens, truncation, splices, forged safetensors header lengths, pickles
that would create a marker file) and hands it to the reader. A reader may accept
the file or raise its own error class; anything else is a finding. Every case
runs under a watchdog (faulthandler exits the process when a case hangs, even in
C code), so the caller runs this in a subprocess and a crash or hang shows as a
non-zero exit. Used by tests/security/test_fuzz_files.py (CI) and
bench/fuzz_files.py (long runs):

    python -m tests.security.fuzzkit --cases 1000 --seed 0
"""
from __future__ import annotations

import argparse
import faulthandler
import json
import os
import pickle
import random
import shutil
import struct
import sys
import tempfile
import time
from pathlib import Path

CASE_TIMEOUT_S = 10.0
TOKENS = [b"1e999", b"-1e999", b"NaN", b"Infinity", b"[" * 300, b"{" * 300, b'"""', b"\x00", b"\xff\xfe",
          b"null", b"true", b"[]", b"{}", b'"', b"\\", b"18446744073709551615", b"-1", b"0", b"1" * 5000,
          b'"dtype":"I8"', b'"dtype":"C64"', b'"dtype":"BOOL"', b'"shape":[1000000000,1000000000]',
          b'"data_offsets":[0,99999999999]', b'"__metadata__":{"a":1}', b"\xed\xa0\x80",  # a lone surrogate, UTF-8 encoded
          b"\r\n", b","]


class Finding(Exception):
    pass


def marker_pickle(marker: Path) -> bytes:
    """A pickle that creates `marker` if anything unpickles it without restrictions."""
    return (b"cbuiltins\nexec\n(V__import__('pathlib').Path(" + repr(str(marker)).encode() +
            b").write_text('pwned')\ntR.")


# -- seeds: real files written by Studio -------------------------------------------------

def make_seeds(folder: Path, marker: Path) -> dict[str, list[bytes]]:
    import torch

    from studio.graph.compile import compile_graph
    from studio.train.checkpoint import save_checkpoint, weights_bytes
    from studio.train.events import EpochEvent
    from studio.ui.run import history
    from tests.train.helpers import mlp_project

    project = mlp_project()
    model = compile_graph(project.model)
    opt = torch.optim.Adam(model.parameters())
    model(torch.zeros(2, 2)).sum().backward()
    opt.step()
    state = model.state_dict()
    seeds: dict[str, list[bytes]] = {}
    seeds["safetensors"] = [weights_bytes(state, {"format": "studio.weights", "project": "p"}),
                            weights_bytes({k: v.half() for k, v in state.items()})]
    ev = EpochEvent(1, 2, 0.5, 0.7, 0.6, 0.65, "accuracy", 1e-3, 1.0, True)
    ck = folder / "ck"
    ck.mkdir()
    save_checkpoint(ck, model, opt, {"version": 1, "status": "running", "epoch": 1, "step": 3, "epochs": 2,
                                     "best_epoch": 1, "best_score": 0.6, "bad_epochs": 0, "partial": None,
                                     "history": [ev.__dict__]}, {"torch": torch.get_rng_state()})
    seeds["checkpoint"] = [(ck / "checkpoint.safetensors").read_bytes()]
    import io
    buf = io.BytesIO()
    torch.save(dict(state), buf)
    seeds["pt"] = [buf.getvalue(), marker_pickle(marker), pickle.dumps({"w": os.getcwd}, protocol=2)]
    run = history.RunRecord(number=3, colour="#0072B2", data={"dataset": "spiral"}, train={"lr": 0.01},
                            status="finished", result={"val_metric": 0.9})
    for i in range(1, 6):
        run.add_epoch(type("E", (), dict(epoch=i, train_loss=1 / i, train_metric=0.5, val_loss=1 / i,
                                         val_metric=0.6, lr=0.01, seconds=1.0, metric_name="accuracy")))
        run.grads.setdefault("linear1", history.Series(("x", "norm"), 8)).append(i, 0.1 * i)
        run.batches.append(i, i, 1 / i, 0.5, 0.01, 1 / i, 0.5)
    runs = folder / "runs"
    history.save_run(runs, run)
    seeds["run_json"] = [(runs / "run-003.json").read_bytes()]
    seeds["run_csv"] = [(runs / "run-003.csv").read_bytes()]
    seeds["meta"] = [json.dumps({"format": "studio.run", "version": 1, "project": "p", "dataset": "d",
                                 "kind": "image", "task": "classification", "classes": ["a", "b"],
                                 "input": {"kind": "image", "channels": 3}, "normalize": True,
                                 "mean": [0.5, 0.4, 0.3], "std": [0.2, 0.2, 0.2]}).encode()]
    return seeds


# -- mutations ---------------------------------------------------------------------------

def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 8))):
        op = rng.randrange(8)
        if not b:
            b += rng.choice(TOKENS)
            continue
        i = rng.randrange(len(b))
        if op == 0:          # bit flips
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:        # interesting byte
            b[i] = rng.choice((0, 0xFF, 0x7F, 0x80, ord("["), ord('"'), ord("9"), ord("-"), ord("e")))
        elif op == 2:        # hostile token inserted
            b[i:i] = rng.choice(TOKENS)
        elif op == 3:        # truncation
            del b[rng.randrange(len(b)):]
        elif op == 4:        # a chunk duplicated elsewhere
            j = rng.randrange(len(b))
            b[j:j] = b[i:i + rng.randrange(1, 64)]
        elif op == 5:        # a chunk removed
            del b[i:i + rng.randrange(1, 64)]
        elif op == 6 and len(b) >= 8:  # safetensors: forge the header length (u64 little endian)
            b[0:8] = struct.pack("<Q", rng.choice((0, 1, 7, len(b), len(b) - 8, len(b) + 1, 2**31, 2**63, 2**64 - 1,
                                                   rng.randrange(2**64))))
        else:                # digits replaced by a huge or negative number
            b[i:i + 1] = rng.choice((b"99999999999999999999", b"-5", b"1e308", b"0.0"))
    return bytes(b)


# -- readers: each accepts or raises its own error ----------------------------------------

def _readers(work: Path):
    import torch

    from studio.fileio import FileFormatError
    from studio.graph.compile import compile_graph
    from studio.train.checkpoint import CheckpointError, load_checkpoint
    from studio.train.run_files import read_meta
    from studio.train.weights import WeightsError, load_weights
    from studio.ui.run import history
    from tests.train.helpers import mlp_project

    model = compile_graph(mlp_project().model)

    def weights(name):
        def read(data: bytes):
            path = work / name
            path.write_bytes(data)
            try:
                load_weights(model, path)
            except WeightsError:
                pass
        return read

    def checkpoint(data: bytes):
        (work / "checkpoint.safetensors").write_bytes(data)
        try:
            tensors, doc = load_checkpoint(work)
        except CheckpointError:
            return
        assert isinstance(doc, dict) and all(isinstance(t, torch.Tensor) for t in tensors.values())

    def run_file(suffix):
        def read(data: bytes):
            runs = work / "p.runs"
            shutil.rmtree(runs, ignore_errors=True)
            runs.mkdir()
            seeds = SEEDS
            (runs / "run-003.json").write_bytes(data if suffix == ".json" else seeds["run_json"][0])
            (runs / "run-003.csv").write_bytes(data if suffix == ".csv" else seeds["run_csv"][0])
            loaded, problems = history.load_runs(runs)
            assert len(loaded) + len(problems) == 1
            for run in loaded:  # what the run list and plots do with it
                run.label(), run.tooltip(), run.epoch_column("val_loss"), run.batches.rows()
        return read

    def meta(data: bytes):
        (work / "meta.json").write_bytes(data)
        try:
            doc = read_meta(work / "w.safetensors")
        except FileFormatError:
            return
        assert isinstance(doc, dict)

    def hang(data: bytes):  # the watchdog's own test: a reader that never returns
        time.sleep(3600)

    return {"safetensors": weights("w.safetensors"), "pt": weights("w.pt"), "checkpoint": checkpoint,
            "run_json": run_file(".json"), "run_csv": run_file(".csv"), "meta": meta, "_hang": hang}


SEEDS: dict[str, list[bytes]] = {}


def run(cases: int, seed: int, kinds: list[str] | None = None, case_timeout: float = CASE_TIMEOUT_S) -> dict:
    """`cases` mutated files of each kind; returns counts and findings (raises nothing)."""
    import warnings
    warnings.simplefilter("ignore")
    work = Path(tempfile.mkdtemp(prefix="studio-fuzz-"))
    marker = work / "MARKER"
    try:
        SEEDS.update(make_seeds(work, marker))
        readers = _readers(work)
        kinds = kinds or [k for k in readers if not k.startswith("_")]
        stats = {"cases": {}, "findings": [], "seconds": 0.0, "code_ran": False, "slowest_case_s": 0.0}
        rng = random.Random(seed)
        start = time.perf_counter()
        for kind in kinds:
            read, seeds = readers[kind], SEEDS.get(kind, [b"x"])
            n = 0
            for case in range(cases):
                data = mutate(rng.choice(seeds), rng) if case else rng.choice(seeds)
                faulthandler.dump_traceback_later(case_timeout, exit=True)  # a hang ends the process
                t0 = time.perf_counter()
                try:
                    read(data)
                except Exception as e:  # noqa: BLE001 - an error class the reader does not own
                    stats["findings"].append({"kind": kind, "case": case, "error": f"{type(e).__name__}: {e}"[:300],
                                              "input": data[:200].hex()})
                finally:
                    faulthandler.cancel_dump_traceback_later()
                stats["slowest_case_s"] = max(stats["slowest_case_s"], time.perf_counter() - t0)
                n += 1
            stats["cases"][kind] = n
        stats["seconds"] = round(time.perf_counter() - start, 2)
        stats["slowest_case_s"] = round(stats["slowest_case_s"], 3)
        stats["code_ran"] = marker.exists()
        return stats
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=1000, help="mutated files per kind")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--kinds", help="comma-separated subset of: safetensors,pt,checkpoint,run_json,run_csv,meta")
    p.add_argument("--case-timeout", type=float, default=CASE_TIMEOUT_S,
                   help="seconds one case may take before the process exits as hung")
    args = p.parse_args(argv)
    stats = run(args.cases, args.seed, args.kinds.split(",") if args.kinds else None, args.case_timeout)
    print(json.dumps(stats))
    return 1 if stats["findings"] or stats["code_ran"] else 0


if __name__ == "__main__":
    sys.exit(main())
