"""Per-model speed knobs on the CPU, chosen by timing a few real training steps.

At the start of a CPU run the candidates (memory format, intra-op threads and,
when asked, torch.compile) each train a copy of the model on the first batch,
interleaved in alternating order over a few rounds; the medians decide. A
candidate replaces the plain setting only when it is clearly faster (MARGIN),
so calibration never picks something slower than plain. The choice is cached
in $XDG_CACHE_HOME/studio/calibration.json, keyed by the model's structure,
batch shape, precision, optimizer, CPU, torch version, thread count and
whether the machine is quiet or busy (a busy machine favours fewer threads).

For a small network one calibration is a second of timings and can be unlucky (a
brief slowdown of the machine while one candidate runs), so its cached choice is only
trusted once two calibrations agree: the next run measures again and decides on the
timings of both (the median of each candidate's medians); a third settles it either
way. Steps of SLOW_STEP or more time reliably and are trusted at once.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch

from studio.data.batches import Batcher
from studio.data.common import cache_root
from studio.train.optim import make_optimizer
from studio.train.train_graph import training_graph

MARGIN = 0.05           # a candidate must beat plain by 5% to be chosen
ROUNDS = 3              # interleaved rounds per calibration
BLOCK_SECONDS = 0.06    # steps per timed block: about this long each
MAX_STEPS = 6           # steps per timed block at most
SLOW_STEP = 0.5         # seconds: steps this long get 2 rounds, not 3
PRUNE = 2.0             # candidates this many times slower than the best first step are dropped
DISABLE_ENV = "STUDIO_CALIBRATE"  # "0" turns calibration off (plain settings)
SETTLED = 3             # calibrations after which a cached choice is trusted even if they disagreed


@dataclass(frozen=True)
class Knobs:
    channels_last: bool = False
    threads: int = 1
    compile: bool = False
    bf16: bool = False  # bf16 autocast (only a candidate when the user chose precision bf16)

    def label(self) -> str:
        parts = ["channels_last" if self.channels_last else "contiguous",
                 f"{self.threads} thread" + ("s" if self.threads > 1 else "")]
        return ", ".join(parts + (["torch.compile"] if self.compile else []) + (["bf16"] if self.bf16 else []))


@dataclass
class Plan:
    """What a CPU run uses, and why."""
    knobs: Knobs
    source: str = "plain"          # "plain" | "calibrated" | "cache"
    speedup: float = 1.0           # measured step-time ratio plain / chosen
    seconds: float = 0.0           # calibration cost
    timings: dict[str, float] = field(default_factory=dict)  # label -> median seconds per step
    history: list[dict[str, float]] = field(default_factory=list)  # every calibration's timings, oldest first

    def settled(self, plain: Knobs) -> bool:
        """Whether this (cached) choice is trusted without measuring again: the last two
        calibrations picked the same, or there were SETTLED of them."""
        if len(self.history) >= SETTLED:
            return True
        if len(self.history) == 1 and self.history[0].get(plain.label(), 0.0) >= SLOW_STEP:
            return True  # steps this long time reliably, and measuring again would cost many seconds
        return len(self.history) == 2 and _pick(self.history[:1], plain) == _pick(self.history[1:], plain)

    def describe(self) -> str:
        if self.source == "plain":
            return f"speed settings: {self.knobs.label()} (not calibrated)"
        how = "cached calibration" if self.source == "cache" else f"calibrated in {self.seconds:.1f} s"
        if self.source == "calibrated" and len(self.history) > 1:
            how += f", calibration {len(self.history)} of this network"
        return f"speed settings: {self.knobs.label()}, {self.speedup:.2f}x plain ({how})"


# -- bf16 support ---------------------------------------------------------------------------
def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_bf16_support() -> tuple[bool, str]:
    """(fast bf16 on this CPU, a sentence saying why not). Fast means native bf16
    instructions (AVX512-BF16 or AMX on x86; oneDNN's own check elsewhere):
    without them bf16 is emulated and slower than fp32."""
    isa = []
    for name, probe in (("AMX", "_is_amx_tile_supported"), ("AVX512-BF16", "_is_avx512_bf16_supported")):
        fn = getattr(torch.cpu, probe, None)
        try:
            if fn is not None and fn():
                isa.append(name)
        except RuntimeError:
            pass
    flags = _cpu_flags()
    isa += [n for n, flag in (("AMX", "amx_bf16"), ("AVX512-BF16", "avx512_bf16")) if flag in flags and n not in isa]
    if isa:
        return True, ""
    if platform.machine().lower() in ("arm64", "aarch64"):
        try:
            if torch.ops.mkldnn._is_mkldnn_bf16_supported():
                return True, ""
        except (RuntimeError, AttributeError):
            pass
    return False, ("this CPU has no bf16 instructions (AVX512-BF16 or AMX), so bf16 would be slower "
                   "than fp32 here: training in fp32 instead")


def effective_precision(requested: str, device: torch.device,
                        bf16_check: Callable[[], tuple[bool, str]] | None = None) -> tuple[str, str]:
    """(precision the run uses, a note for the user or "")."""
    if requested == "fp32" or device.type == "cuda":
        return requested, ""
    if device.type != "cpu":
        return "fp32", f"precision {requested} is used on CUDA GPUs and the CPU only: training in fp32 on {device.type}"
    if requested == "fp16":
        return "fp32", "precision fp16 is for CUDA GPUs (on the CPU choose bf16): training in fp32"
    ok, why = (bf16_check or cpu_bf16_support)()
    return ("bf16", "") if ok else ("fp32", f"precision bf16: {why}")


# -- the choice ----------------------------------------------------------------------------
def choose(timings: dict[Knobs, list[float]], plain: Knobs, margin: float = MARGIN) -> tuple[Knobs, float]:
    """The fastest candidate by median seconds per step, but plain unless the
    winner is faster by more than `margin`. Returns (knobs, plain/chosen ratio)."""
    medians = {k: statistics.median(v) for k, v in timings.items() if v}
    base = medians[plain]
    best = min(medians, key=medians.get)
    if best == plain or medians[best] > base * (1 - margin):
        return plain, 1.0
    return best, base / medians[best]


def pooled(history: list[dict[str, float]], cands: list[Knobs]) -> dict[Knobs, list[float]]:
    """Each candidate's median step time from every calibration that timed it."""
    return {k: [h[k.label()] for h in history if k.label() in h] for k in cands}


def _pick(history: list[dict[str, float]], plain: Knobs) -> str:
    """The label choose() picks from `history` (candidates named as in the timings)."""
    by_label = {label: [h[label] for h in history if label in h] for h in history for label in h}
    return choose(by_label, plain.label())[0] if plain.label() in by_label else ""


def candidates(threads: int, conv_images: bool, try_compile: bool, bf16: bool = False) -> list[Knobs]:
    """Plain (contiguous fp32, all threads) first: the reference. Fewer threads only pays on a
    busy machine; channels_last only for conv nets. With bf16 asked for, the bf16 variants must
    beat fp32 like any knob: for small layers bf16 is slower, and it rounds the inputs."""
    thread_options = sorted({threads, max(1, threads // 2)}, reverse=True)
    out = [Knobs(cl, t) for cl in ((False, True) if conv_images else (False,)) for t in thread_options]
    if try_compile:  # compiling is slow: one candidate per memory format, all threads
        out += [Knobs(k.channels_last, k.threads, True) for k in out if k.threads == threads]
    if bf16:
        out += [Knobs(k.channels_last, k.threads, k.compile, True) for k in out]
    return out


def load_bucket() -> str:
    try:
        per_core = os.getloadavg()[0] / max(1, os.cpu_count() or 1)
    except OSError:
        return "unknown"
    return "quiet" if per_core < 0.75 else "busy"


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cache_key(model: torch.nn.Module, batch_shape: tuple, precision: str, optimizer: str, threads: int,
              try_compile: bool) -> str:
    structure = getattr(model, "code", "") + repr(model)
    h = hashlib.sha256(structure.encode()).hexdigest()[:16]
    # The load only sways the thread count: with one thread the same choice serves any load,
    # so runs (and a run and its resumption) agree on the memory format.
    load = load_bucket() if threads > 1 else "any load"
    parts = [h, "x".join(map(str, batch_shape)), precision, optimizer, cpu_name(), torch.__version__,
             f"{threads}t", load, "compile" if try_compile else "eager"]
    return "|".join(parts)


class Cache:
    def __init__(self, path: Path | None = None):
        self.path = path or cache_root() / "calibration.json"

    def get(self, key: str) -> Plan | None:
        try:
            entry = json.loads(self.path.read_text(encoding="utf-8")).get(key)
            timings = {str(k): float(v) for k, v in entry.get("timings", {}).items()}
            history = [{str(k): float(v) for k, v in h.items()} for h in entry.get("history", [timings])]
            return Plan(Knobs(**entry["knobs"]), "cache", float(entry["speedup"]), 0.0, timings, history)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None

    def put(self, key: str, plan: Plan) -> None:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            doc = doc if isinstance(doc, dict) else {}
        except (OSError, ValueError):
            doc = {}
        doc[key] = {"knobs": asdict(plan.knobs), "speedup": plan.speedup, "timings": plan.timings,
                    "history": plan.history[-SETTLED:]}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # a read-only home only costs a calibration next time


# -- timing -------------------------------------------------------------------------------
class _Candidate:
    """A copy of the model with its own optimizer, trained on one batch."""

    def __init__(self, knobs: Knobs, model, make_opt, loss_fn, x, y):
        self.knobs = knobs
        self.model = copy.deepcopy(model)
        if knobs.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.opt = make_opt(self.model.parameters())
        steps = training_graph(self.model, knobs.bf16)[0]  # what the run's steps execute
        self.forward = torch.compile(steps) if knobs.compile else steps
        self.loss_fn, self.x, self.y = loss_fn, x, y

    def steps(self, n: int) -> float:
        torch.set_num_threads(self.knobs.threads)
        start = time.perf_counter()
        for _ in range(n):
            x = self.x.contiguous(memory_format=torch.channels_last) if self.knobs.channels_last else self.x
            self.opt.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.knobs.bf16):
                loss = self.loss_fn(self.forward(x), self.y)
            loss.backward()
            self.opt.step()
        loss.item()
        return (time.perf_counter() - start) / n


def measure(cands: list[Knobs], model, make_opt, loss_fn, x, y,
            rounds: int = ROUNDS) -> tuple[dict[Knobs, list[float]], list[str]]:
    """Seconds per step of each candidate, over `rounds` interleaved rounds
    (order reversed every other round). A candidate that fails is dropped."""
    runners, problems = [], []
    for k in cands:
        try:
            r = _Candidate(k, model, make_opt, loss_fn, x, y)
            r.steps(1)  # first step: kernel selection, allocator, compilation
            runners.append(r)
        except Exception as e:  # noqa: BLE001 - a knob that does not work here is just not used
            if k == cands[0]:
                raise
            problems.append(f"{k.label()} does not work here ({str(e).splitlines()[0][:120]})")
    # One timed step each; a candidate over PRUNE times the fastest cannot win: drop it
    # early (plain stays, as the reference), so a badly oversubscribed setting costs little.
    first = {r.knobs: r.steps(1) for r in runners}
    for r in runners:  # one step is one sample: on a busy machine a good setting can draw a slow one
        if first[r.knobs] > PRUNE * min(first.values()):
            first[r.knobs] = min(first[r.knobs], r.steps(1))
    best = min(first.values())
    runners = [r for i, r in enumerate(runners) if i == 0 or first[r.knobs] <= PRUNE * best]
    steps = {r.knobs: max(1, min(MAX_STEPS, round(BLOCK_SECONDS / max(first[r.knobs], 1e-6)))) for r in runners}
    timings: dict[Knobs, list[float]] = {r.knobs: [] for r in runners}
    if best > SLOW_STEP:
        rounds = min(rounds, 2)  # big steps vary less; keep calibration to a few batches
    for i in range(rounds):
        for r in (runners if i % 2 == 0 else runners[::-1]):
            timings[r.knobs].append(r.steps(steps[r.knobs]))
    return timings, problems


MEASURING = "Choosing speed settings: timing a few training steps…"


def plan_for(model, x: torch.Tensor, y: torch.Tensor, *, make_opt, loss_fn, precision: str,
             optimizer: str, conv_images: bool, try_compile: bool = False, cache: Cache | None = None,
             announce: Callable[[str], None] | None = None) -> tuple[Plan, list[str]]:
    """The knobs for a CPU run: from the cache, else measured (and cached).
    `x`, `y` is one prepared training batch (contiguous). Torch's RNG and
    thread count are left as they were. `announce(MEASURING)` is called before
    measuring (seconds for a large network), so a window can say what it waits for."""
    threads = torch.get_num_threads()
    bf16 = precision == "bf16"
    plain = Knobs(False, threads)
    cands = candidates(threads, conv_images, try_compile, bf16)
    if len(cands) == 1 or os.environ.get(DISABLE_ENV, "1") == "0":
        return Plan(Knobs(False, threads, False, bf16)), []  # uncalibrated: as the user asked
    cache = cache or Cache()
    key = cache_key(model, tuple(x.shape), precision, optimizer, threads, try_compile)
    hit = cache.get(key)
    if hit is not None and hit.knobs in cands and hit.settled(plain):
        return hit, []
    if announce is not None:
        announce(MEASURING)
    started = time.perf_counter()
    rng = torch.get_rng_state()
    try:
        timings, problems = measure(cands, model, make_opt, loss_fn, x, y)
    finally:
        torch.set_rng_state(rng)
        torch.set_num_threads(threads)
    now = {k.label(): statistics.median(v) for k, v in timings.items()}
    history = (hit.history if hit is not None else [])[-(SETTLED - 1):] + [now]
    knobs, speedup = choose({k: v for k, v in pooled(history, cands).items() if v}, plain)
    plan = Plan(knobs, "calibrated", speedup, time.perf_counter() - started, now, history)
    cache.put(key, plan)
    return plan, problems


def plan_for_run(model, trainer, conv_images: bool, enabled: bool = True,
                 announce: Callable[[str], None] | None = None) -> tuple[Plan, list[str]]:
    """plan_for() with a Trainer's first training batch, optimizer and loss; the
    notes for the user say what was chosen and which knobs did not work here."""
    s, ds, obj = trainer.settings, trainer.dataset, trainer.objective
    threads = torch.get_num_threads()
    precision, notes = trainer.precision, []
    if precision == "bf16" and any(isinstance(m, torch.nn.RNNBase) for m in model.modules()):
        # Rounding compounds over the time steps: on the offline waves sample bf16 lost
        # 10 points of validation accuracy (3 seeds), and was no faster on the CPU.
        precision = "fp32"
        notes.append("precision bf16: recurrent layers (LSTM, GRU, RNN) lose accuracy in bf16 on the "
                     "CPU, so this network trains in fp32")
    if not enabled or len(ds.x_train) == 0:
        return Plan(Knobs(False, threads, False, precision == "bf16")), notes
    bs = min(s.batch_size, len(ds.x_train))
    probe = Batcher(ds.x_train[:bs], ds.y_train[:bs], bs, mean=ds.mean, std=ds.std,
                    normalize=trainer.data_settings.normalize)
    _, x, y = next(probe.batches())
    if getattr(obj, "reconstructs", False):
        y = x  # an autoencoder's target is its input
    try:
        plan, problems = plan_for(model, x, y, make_opt=lambda p: make_optimizer(p, s),
                                  loss_fn=lambda out, t: obj.loss(out, obj.target(t)),
                                  precision=precision, optimizer=s.optimizer, conv_images=conv_images,
                                  try_compile=s.compile, announce=announce)
    except Exception:  # noqa: BLE001 - the first training step reports a broken network, with context
        return Plan(Knobs(False, threads, False, precision == "bf16")), notes
    notes = notes + problems
    if precision == "bf16" and not plan.knobs.bf16:
        notes.append("precision bf16: bf16 was not measurably faster than fp32 for this network on "
                     "this CPU (small layers gain little), so it trains in fp32")
    return plan, notes + ([plan.describe()] if plan.source != "plain" else [])
