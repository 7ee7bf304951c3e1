"""The default backend: the CLI's own process for one worker, else a pool of worker processes.

Workers are forked where the platform can (they start at once, sharing the modules this
process has loaded; the batch starts no thread before them, see :func:`start_method`), else
spawned; they give
Tesseract (``OMP_THREAD_LIMIT=1``), RapidOCR and OpenCV one thread each before the first OCR
(one process per core already fills the cores; ``--jobs 1`` likewise uses one core), and
ignore Ctrl-C: the main process decides how to stop, and stops them itself.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any

import cv2

from .inputs import Item
from .work import ONE_CORE_ENV, Job, one_core, process_chunk

Records = list[dict[str, Any]]
OnRecords = Callable[[Sequence[Item], Records | BaseException], None]
"""Called once per chunk with its items and either their records or the error that lost them."""


def start_method() -> str:
    """``"fork"`` on Linux, ``"spawn"`` elsewhere (where forking is unsafe or missing).

    Forking is safe here because the batch has started no thread when the pool is made (the
    progress bar runs without its monitor thread) and loads no OCR engine in this process.
    """
    return "fork" if sys.platform.startswith("linux") else "spawn"


def init_worker() -> None:
    """Set up a worker process: one OpenMP thread for Tesseract, Ctrl-C left to the parent."""
    one_core()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalBackend:
    """Run chunks on ``jobs`` processes of this machine (``jobs == 1``: in this process).

    Parameters
    ----------
    jobs:
        Number of worker processes (1: no pool, the chunks run one after another here).
    """

    def __init__(self, jobs: int) -> None:
        self.workers = max(1, jobs)
        self.description = "this process" if self.workers == 1 else f"{self.workers} worker processes"

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def run(self, job: Job, chunks: Sequence[Sequence[Item]], on_records: OnRecords) -> None:
        """Process every chunk, calling ``on_records`` as each one finishes."""
        if self.workers == 1:
            with _one_core_here():
                for chunk in chunks:
                    on_records(chunk, process_chunk(job, chunk))
            return
        pool = ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context(start_method()), initializer=init_worker
        )
        try:
            futures: dict[Future, Sequence[Item]] = {pool.submit(process_chunk, job, c): c for c in chunks}
            for future in as_completed(futures):
                error = future.exception()
                on_records(futures[future], error if error is not None else future.result())
        except BaseException:
            # CPython keeps the workers and the pool's manager thread here.
            processes = list((getattr(pool, "_processes", None) or {}).values())
            manager = getattr(pool, "_executor_manager_thread", None)
            pool.shutdown(wait=False, cancel_futures=True)
            _stop(processes)
            if manager is not None:
                # It closes the pool's pipes as it ends; the interpreter's exit hook wakes it through
                # one of them without a lock, which now and then printed an EBADF traceback after
                # the Ctrl-C message. Once it has ended, nothing is left to race.
                manager.join(timeout=5)
            raise
        pool.shutdown(wait=True)


@contextmanager
def _one_core_here() -> Iterator[None]:
    """:func:`~pipeline.batch.work.one_core` for this process, undone afterwards.

    Engines first created inside (RapidOCR's) keep their single thread for the process.
    """
    saved_env = {name: os.environ.get(name) for name in ONE_CORE_ENV}
    threads = cv2.getNumThreads()
    one_core()
    try:
        yield
    finally:
        cv2.setNumThreads(threads)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _stop(processes: list) -> None:
    """Terminate worker processes now (their outputs are atomic, so nothing is left half-written)."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
