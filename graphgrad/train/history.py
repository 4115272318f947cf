"""History: one row of metrics per epoch, written as `metrics.csv` and drawn as `curves.png`."""
from __future__ import annotations

import csv
import io
import os

from ..io import atomic_write

COLUMNS = ("epoch", "iteration", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds")


class History:
    """The per-epoch record of a training run (like Keras's History, a list of dicts)."""

    def __init__(self, rows: list[dict] | None = None):
        """A history holding `rows` (one dict per epoch), empty by default."""
        self.rows: list[dict] = [dict(r) for r in rows or []]

    def append(self, row: dict) -> None:
        """Add one epoch's metrics."""
        self.rows.append(dict(row))

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key: str) -> list:
        """The column `key` over all epochs, e.g. `history["test_accuracy"]`."""
        return [r.get(key) for r in self.rows]

    @property
    def last(self) -> dict:
        """The most recent epoch's metrics."""
        return self.rows[-1] if self.rows else {}

    def write_csv(self, path: str | os.PathLike) -> None:
        """Write all rows to `path` (atomically), one column per metric."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: _fmt(row.get(k)) for k in COLUMNS})
        atomic_write(path, buf.getvalue())

    def plot(self, path: str | os.PathLike) -> None:
        """Draw loss and accuracy curves into `path` (PNG) with matplotlib's Agg backend."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError(
                "History.plot needs matplotlib: pip install -e '.[train]' (or pip install matplotlib)"
            ) from None
        epochs = self["epoch"]
        fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
        for key, label in (("train_loss", "train"), ("test_loss", "test")):
            if any(v is not None for v in self[key]):
                ax_loss.plot(epochs, self[key], marker="o", label=label)
        for key, label in (("train_accuracy", "train"), ("test_accuracy", "test")):
            if any(v is not None for v in self[key]):
                ax_acc.plot(epochs, self[key], marker="o", label=label)
        ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
        ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
        for ax in (ax_loss, ax_acc):
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))
        plt.close(fig)


def _fmt(value):
    return f"{value:.6g}" if isinstance(value, float) else ("" if value is None else value)
