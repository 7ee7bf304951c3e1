"""Auto-tune's search in a worker thread, so the page stays usable while it runs.

:class:`TuneJob` runs :func:`pipeline.tuning.tune` in a daemon thread that never calls
Streamlit: it only records each trial under a lock. The Auto-tune panel keeps the job in the
session, draws its :meth:`TuneJob.progress` from a fragment that reruns every few tenths of a
second, and asks it to :meth:`TuneJob.stop` (the search ends after its current batch of
trials and keeps the trials so far). When the thread has ended, :attr:`TuneJob.search` holds
the finished search, or :attr:`TuneJob.error` says why there is none.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.errors import ClarityError
from pipeline.preset import Preset
from pipeline.tuning import Metric, TrialInfo, TuneResult, tune


@dataclass(frozen=True)
class Search:
    """A finished search as the panel keeps it: the result and what it was run on."""

    result: TuneResult
    on: str
    """What the images were, e.g. ``"the image label.png"`` or ``"3 uploaded images"``."""
    base_name: str
    planned: int
    patience: int


@dataclass(frozen=True)
class Progress:
    """A running search as the page shows it: the latest trial and the best one so far."""

    latest: TrialInfo | None
    best: TrialInfo | None
    running: bool


@dataclass(frozen=True)
class JobSettings:
    """How to search: trials planned, seed, CER options, patience (trials), time limit (s), processes."""

    trials: int
    seed: int
    ignore_case: bool
    ignore_spaces: bool
    patience: int
    time_limit_s: float
    jobs: int = 1


class TuneJob:
    """One Auto-tune search of ``preset`` on ``pairs`` (image, expected text or ``None``), in a thread."""

    def __init__(
        self, preset: Preset, pairs: Sequence[tuple[np.ndarray, str | None]], on: str, settings: JobSettings
    ) -> None:
        self.preset = preset
        self.pairs = list(pairs)
        self.on = on
        self.settings = settings
        self.metric: Metric = "cer" if any(text is not None for _, text in self.pairs) else "confidence"
        self.search: Search | None = None
        self.error: str | None = None
        self._latest: TrialInfo | None = None
        self._best: TrialInfo | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clarity-autotune", daemon=True)

    def start(self) -> TuneJob:
        """Start the search thread; returns the job."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the search to end after its current batch of trials (it keeps the trials so far)."""
        self._stop.set()

    @property
    def running(self) -> bool:
        """True until the search thread has ended."""
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait at most ``timeout`` seconds for the thread to end; True when it has."""
        self._thread.join(timeout)
        return not self.running

    def progress(self) -> Progress:
        """The latest trial and the best so far (both ``None`` before the first trial ends)."""
        with self._lock:
            return Progress(self._latest, self._best, self.running)

    def _on_trial(self, info: TrialInfo) -> None:
        with self._lock:
            self._latest = info
            if info.is_best:
                self._best = info

    def _run(self) -> None:
        s = self.settings
        try:
            result = tune(
                self.pairs,
                self.preset,
                trials=s.trials,
                seed=s.seed,
                metric=self.metric,
                ignore_spaces=s.ignore_spaces,
                ignore_case=s.ignore_case,
                timeout=s.time_limit_s,
                patience=s.patience,
                jobs=s.jobs,
                on_trial=self._on_trial,
                should_stop=self._stop.is_set,
                label=self.on,
            )
        except ClarityError as exc:
            self.error = f"Auto-tune failed: {exc}"
        except Exception as exc:  # a bug must not go unseen: the page shows it
            self.error = f"Auto-tune failed unexpectedly: {type(exc).__name__}: {exc}"
        else:
            self.search = Search(result, self.on, self.preset.name, s.trials, s.patience)
