"""Console progress for `studio train`: a bar on a terminal, plain lines in a log."""
from __future__ import annotations

import sys

BAR = 28


class ConsoleReport:
    """Callbacks that print: a bar on stderr (terminals only), a line per epoch on stdout."""

    def __init__(self, metric: str = "accuracy"):
        self.tty = sys.stderr.isatty()
        self.metric = metric

    def on_batch_end(self, e) -> None:
        if not self.tty:  # a log file: a plain line at each quarter of the epoch instead of a bar
            quarter = 4 * e.batch // e.batches
            if 0 < quarter < 4 and (e.epoch, quarter) != getattr(self, "_quarter", None):
                self._quarter = (e.epoch, quarter)
                print(f"epoch {e.epoch}: {quarter * 25}% ({e.batch}/{e.batches}) loss {e.loss:.4f} "
                      f"{e.images_per_second:,.0f} img/s", file=sys.stderr, flush=True)
            return
        done = int(BAR * e.batch / e.batches)
        m = "" if e.metric is None else f" {_fmt_metric(e.metric, self.metric)}"
        sys.stderr.write(f"\repoch {e.epoch} [{'#' * done}{'.' * (BAR - done)}] {e.batch}/{e.batches} "
                         f"loss {e.loss:.4f}{m} {e.images_per_second:,.0f} img/s  ")
        sys.stderr.flush()

    def on_notice(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def on_epoch_end(self, e) -> None:
        if self.tty:
            sys.stderr.write("\r" + " " * 100 + "\r")
        self.metric = e.metric_name
        line = (f"epoch {e.epoch}/{e.epochs}  train loss {e.train_loss:.4f} "
                f"{_fmt_metric(e.train_metric, e.metric_name)}")
        if e.val_loss is not None:
            line += f"  val loss {e.val_loss:.4f} {_fmt_metric(e.val_metric, e.metric_name)}"
        for name, value in (getattr(e, "terms", None) or {}).items():
            line += f"  {name} {value:.4f}"
        line += f"  {e.seconds:.1f}s" + ("  *best" if e.is_best else "")
        print(line, flush=True)

    def on_error(self, err) -> None:
        if self.tty:
            sys.stderr.write("\n")


def _fmt_metric(value: float, name: str) -> str:
    return f"acc {value * 100:.1f}%" if name == "accuracy" else f"mae {value:.4f}"


def data_progress(fraction: float, message: str) -> None:
    print(f"data: {message} ({fraction * 100:.0f}%)" if fraction < 1 else f"data: {message}",
          file=sys.stderr, flush=True)
