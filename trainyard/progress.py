"""Progress lines for long work: one line, rewritten in place on a terminal, sparse lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(
        self, label: str, total: int, stream: TextIO | None = None, every_s: float = 2.0, unit: str = ""
    ) -> None:
        self.label, self.total, self.unit = label, max(total, 1), f" {unit}" if unit else ""
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_s = every_s
        self.start = time.monotonic()
        self._last = self.start

    def update(self, done: int, note: str = "") -> None:
        now = time.monotonic()
        if done < self.total and now - self._last < (0.1 if self.tty else self.every_s):
            return
        self._last = now
        frac = done / self.total
        bar = "#" * int(frac * 24)
        rate = done / max(now - self.start, 1e-9)
        eta = (self.total - done) / rate if rate > 0 else 0.0
        line = f"{self.label} [{bar:<24}] {done}/{self.total} {rate:,.0f}{self.unit}/s eta {eta:,.0f}s {note}".rstrip()
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done >= self.total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
