"""A small pool of worker processes whose calls a timeout can really stop.

Threads cannot be stopped from outside: a Tesseract call that overran its time limit went on
using a core long after the caller gave up. Here each call runs in a worker *process*; when
it takes longer than its time limit, or the worker's memory grows past ``max_rss_mb``, the
worker is killed (which stops the work at once and frees its memory) and a fresh one is
started in its place.

Workers are fresh interpreters (``python -m pipeline.workers``, talking over two pipes: no
copy of the server's threads or memory, and nothing depends on how the server was started)
and live for many calls, so whatever a call's module keeps at module level (OCR
engines, loaded language models) is made once per worker. A call is a picklable function
and its arguments; its result or its :class:`~pipeline.errors.ClarityError` comes back.

Big calls (say, a 24 MP page) may use at most half the workers at once (at least one), so small ones
always find a worker within the time of a small call; big calls also run at a lower CPU
priority (``nice`` 10) where the system allows it. A lowered worker cannot raise its priority
again, so small calls go to a worker that never ran a big call whenever one is idle.

Nothing here knows about OCR or Streamlit; :mod:`studio.ocr` uses it for reading text.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import math
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .errors import ClarityError

ROOT = Path(__file__).resolve().parents[1]
"""The folder holding the ``pipeline`` package (the workers' working directory)."""

POLL_S = 0.1
"""How often a waiting caller checks the worker's memory (seconds)."""


class WorkerError(ClarityError):
    """A worker call did not finish: time limit, memory limit, or the worker died."""


class WorkerTimeout(WorkerError):
    """The call took longer than its time limit; its worker was stopped."""


class WorkerMemoryError(WorkerError):
    """The worker grew past its memory limit during the call and was stopped.

    ``reused``: the worker had served earlier calls, whose leftovers may be what passed the limit.
    """

    reused: bool = False


def send_message(conn: Connection, message: Any) -> None:
    """Send ``message`` with the memory of its arrays out of band (pickle protocol 5): the arrays
    are written to the pipe as they are, not copied into a pickle first. Pickling a 120 MB result
    the usual way made two more copies of it for a moment, and that peak passed a worker's memory
    limit. Read with :func:`recv_message`."""
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    views = [buffer.raw() for buffer in buffers]
    conn.send((head, [view.nbytes for view in views]))
    for view in views:
        conn.send_bytes(view)


def recv_message(conn: Connection) -> Any:
    """A message sent by :func:`send_message`; its arrays are writable, each read once into place."""
    head, sizes = conn.recv()
    buffers = []
    for size in sizes:
        buffer = bytearray(size)
        conn.recv_bytes_into(buffer)
        buffers.append(buffer)
    return pickle.loads(head, buffers=buffers)


def _worker_main(inbox: Connection, conn: Connection, initializer: str) -> None:
    """Body of a worker process: run calls from ``inbox`` until it closes, answer on ``conn``."""
    if initializer:
        try:
            module, _, name = initializer.partition(":")
            getattr(importlib.import_module(module), name)()
        except Exception:  # the calls themselves report what is missing
            pass
    while True:
        try:
            fn, args, nice, prepare = recv_message(inbox)
        except (EOFError, OSError):
            return
        _set_nice(nice)
        before = {t.ident for t in threading.enumerate()}
        try:
            if prepare is not None:  # e.g. load an engine's models: not counted in the call's time
                prepare[0](*prepare[1])
                send_message(conn, ("started", None, False))
            reply: tuple[str, Any] = ("ok", fn(*args))
        except ClarityError as exc:
            reply = ("error", exc)
        except Exception as exc:  # any other failure is reported, the worker goes on
            reply = ("failed", f"{type(exc).__name__}: {exc}")
        lingering = _lingering(before)
        try:
            send_message(conn, (*reply, lingering))
        except Exception as exc:  # an unpicklable result or error
            send_message(conn, ("failed", f"could not return the result: {exc}", lingering))
        # Drop this call's arguments and result now: kept until the next call, a 12 MP page's
        # (120 MB) counted against that call's memory limit and got it stopped.
        del fn, args, prepare, reply
        _give_back_memory()
        # Then say what the worker still holds, without the call's result (the pool replaces a
        # worker that holds too much): measured with it, a 120 MB result got a worker replaced.
        send_message(conn, ("held", rss_mb(os.getpid()), False))


def _give_back_memory() -> None:
    """Return the heap memory a call freed to the system (glibc keeps freed blocks below 32 MB, so
    after a 12 MP stage run the worker held more than the pool's recycle share and was replaced
    after every call, each new worker costing about a second). No-op without glibc's ``malloc_trim``."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


KEPT_THREADS = ("ThreadPoolExecutor", "clarity-")
"""Name prefixes of long-lived threads a call may start (thread pools kept for later calls)."""


def _lingering(before: set[int | None], wait_s: float = 0.5) -> bool:
    """True when a thread the call started is still running after ``wait_s`` (e.g. a Tesseract call
    abandoned by its own watchdog): the worker is then replaced, which stops that work."""
    deadline = time.monotonic() + wait_s
    for thread in threading.enumerate():
        if thread.ident not in before and not thread.name.startswith(KEPT_THREADS):
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                return True
    return False


HELD_WAIT_S = 10.0
"""Longest wait (s) for a worker to report the memory it holds after a call."""

RECYCLE_SHARE = 0.6
"""A worker holding more than this share of ``max_rss_mb`` after a call is replaced by a fresh one
(its result is kept): a long-lived worker reading with Tesseract for many sessions reached 570 MB,
and loading RapidOCR on top of that passed the 700 MB limit mid-call."""


def _set_nice(value: int) -> None:
    with contextlib.suppress(OSError):  # lowering the value back needs privileges: keep what we have
        os.setpriority(os.PRIO_PROCESS, 0, value)


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    outbox: Connection
    conn: Connection
    busy: bool = False
    big: bool = False
    niced: bool = False  # it ran a big call at nice 10, and cannot go back to 0 without privileges
    calls: int = 0  # calls sent to it so far

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Kill the process and close the pipes."""
        self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        self.outbox.close()
        self.conn.close()


class WorkerPool:
    """``size`` worker processes that run calls with a time and a memory limit.

    Parameters
    ----------
    size:
        Number of worker processes (at least 1).
    max_rss_mb:
        Memory one worker may use (MB); a call that makes its worker grow past it fails with
        :class:`WorkerError` and the worker is replaced. ``None``: no limit.
    max_total_mb, total_advice:
        Memory of this process and all its workers together (MB): a call running when the
        total passes it is stopped the same way (``total_advice`` ends its message).
    initializer:
        ``"module:function"`` called once in every new worker (e.g. to create the OCR engines).
    """

    def __init__(
        self,
        size: int,
        *,
        max_rss_mb: float | None = None,
        max_total_mb: float | None = None,
        total_advice: str = "",
        initializer: str = "",
    ) -> None:
        self.size = max(1, int(size))
        self.max_rss_mb = max_rss_mb
        self.max_total_mb = max_total_mb
        self._total_advice = total_advice
        self._initializer = initializer
        self._workers: list[_Worker] = []
        self._cond = threading.Condition()
        self._closed = False
        self._local = threading.local()
        self.killed = 0
        """Workers stopped so far (time or memory limit)."""

    # ----------------------------------------------------------------------------- workers

    def _start(self) -> _Worker:
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "pipeline.workers", str(to_child), str(from_child), self._initializer],
                pass_fds=(to_child, from_child),
                stdin=subprocess.DEVNULL,
                cwd=ROOT,
            )
        finally:
            os.close(to_child)
            os.close(from_child)
        return _Worker(
            process, Connection(from_parent, readable=False), Connection(to_parent, writable=False)
        )

    def _acquire(self, big: bool, fresh: bool = False) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise WorkerError("the worker pool is shut down")
                big_running = sum(w.busy and w.big for w in self._workers)
                allowed = not big or big_running < max(1, self.size // 2)
                # small calls prefer a worker at normal priority, big ones a worker already lowered;
                # a retry (``fresh``) a worker that has run nothing yet
                idle = min(
                    (w for w in self._workers if not w.busy),
                    key=lambda w: (w.niced != big, fresh and w.calls > 0),
                    default=None,
                )
                if allowed and idle is None and len(self._workers) < self.size:
                    idle = self._start()
                    self._workers.append(idle)
                if allowed and idle is not None:
                    idle.busy, idle.big, idle.niced = True, big, idle.niced or big
                    return idle
                self._cond.wait()

    def _reply(self, worker: _Worker, timeout_s: float, what: str) -> tuple[str, Any, bool]:
        """The worker's next message (status, value, a thread of the call still running), watching
        its life, memory and ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not worker.conn.poll(POLL_S):
            if not worker.alive():
                raise WorkerError("the worker process stopped unexpectedly; try again")
            if self.max_rss_mb is not None and rss_mb(worker.process.pid) > self.max_rss_mb:
                raise WorkerMemoryError(
                    f"the work needed more than {self.max_rss_mb:.0f} MB of memory and was stopped"
                )
            if (
                self.max_total_mb is not None
                and self.total_mb() > self.max_total_mb
                and not self._trim_idle()
            ):
                raise WorkerError(
                    f"the server's memory passed {self.max_total_mb:.0f} MB, so the work was stopped"
                    + (f" ({self._total_advice})" if self._total_advice else "")
                )
            if time.monotonic() > deadline:
                raise WorkerTimeout(f"{what} took longer than {timeout_s:g} s and was stopped")
        return recv_message(worker.conn)

    def _held(self, worker: _Worker) -> float:
        """The MB the worker holds once it has dropped its call's result (its last message);
        infinite when it does not say so in time, so that it is replaced."""
        try:
            status, held, _ = self._reply(worker, HELD_WAIT_S, "giving back its memory")
        except WorkerError:  # WorkerTimeout and WorkerMemoryError included
            return math.inf
        return float(held) if status == "held" else math.inf

    def warm(self) -> None:
        """Start every worker now (they import and initialise in the background)."""
        with self._cond:
            while len(self._workers) < self.size and not self._closed:
                self._workers.append(self._start())

    def _release(self, worker: _Worker, *, kill: bool) -> None:
        if kill:
            self.killed += 1
            worker.stop()
        with self._cond:
            if kill:
                self._workers.remove(worker)
                if not self._closed:  # its successor starts now, ready before it is needed
                    self._workers.append(self._start())
            worker.busy = worker.big = False
            self._cond.notify_all()

    # ------------------------------------------------------------------------------- calls

    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        timeout_s: float,
        big: bool = False,
        prepare: tuple[Callable[..., Any], tuple[Any, ...]] | None = None,
        prepare_timeout_s: float = 120.0,
    ) -> Any:
        """Run ``fn(*args)`` in a worker; its result, or its error raised here.

        Parameters
        ----------
        fn, args:
            A module-level function and its (picklable) arguments.
        timeout_s:
            Longest time the call may take once a worker runs it (seconds); after it the
            worker is killed and :class:`WorkerTimeout` raised.
        big:
            A big call: at most half the workers (at least one) run them at once, at a lower CPU
            priority.
        prepare, prepare_timeout_s:
            ``(function, args)`` run in the worker first, with its own time limit (say, creating
            an OCR engine, which loads its models once per worker); ``timeout_s`` starts after it.

        Raises
        ------
        ClarityError
            Whatever ``fn`` raised of them; :class:`WorkerError` when the worker was stopped
            (memory) or died, or ``fn`` failed otherwise.

        A call stopped for memory on a worker that had served earlier calls (whose leftovers may
        be what passed the limit) is run once more on a fresh worker; on a fresh worker the limit
        is the call's own doing and its :class:`WorkerMemoryError` is raised.
        """
        try:
            return self._call_once(fn, args, timeout_s, big, prepare, prepare_timeout_s, fresh=False)
        except WorkerMemoryError as exc:
            if not exc.reused:
                raise
        return self._call_once(fn, args, timeout_s, big, prepare, prepare_timeout_s, fresh=True)

    def _call_once(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        timeout_s: float,
        big: bool,
        prepare: tuple[Callable[..., Any], tuple[Any, ...]] | None,
        prepare_timeout_s: float,
        *,
        fresh: bool,
    ) -> Any:
        """One attempt of :meth:`call` (``fresh``: on a worker that has run nothing yet)."""
        worker = self._acquire(big, fresh)
        reused = worker.calls > 0
        worker.calls += 1
        kill = True
        started = time.monotonic()
        try:
            send_message(worker.outbox, (fn, args, 10 if big else 0, prepare))
            if prepare is not None:
                status, value, lingering = self._reply(worker, prepare_timeout_s, "getting ready")
                started = time.monotonic()
            if prepare is None or status == "started":
                status, value, lingering = self._reply(worker, timeout_s, "the work")
            held = self._held(worker)  # every call ends with it, a failed preparation too
            # A worker still busy with abandoned work, or that kept most of its memory allowance
            # (engines' caches grow over many calls), is replaced before its next call, which
            # would otherwise be stopped part way.
            kill = lingering or (self.max_rss_mb is not None and held > RECYCLE_SHARE * self.max_rss_mb)
        except (EOFError, OSError):
            raise WorkerError("the worker process stopped unexpectedly; try again") from None
        except WorkerMemoryError as exc:
            exc.reused = reused and not fresh
            raise
        finally:
            self._local.run_s = time.monotonic() - started
            self._release(worker, kill=kill)
            if self.max_total_mb is not None and self.total_mb() > self.max_total_mb:
                self._trim_idle()
        if status == "ok":
            return value
        if status == "error":
            raise value
        raise WorkerError(str(value))

    def last_run_s(self) -> float:
        """Seconds the last :meth:`call` of this thread ran in its worker (its wait for a free worker
        not counted)."""
        return getattr(self._local, "run_s", 0.0)

    def _trim_idle(self, min_mb: float = 200.0) -> bool:
        """Replace the idle worker holding the most memory (above ``min_mb``: say, models it loaded
        for earlier calls) by a fresh one; False when there is none. Idle workers go first when the
        total passes ``max_total_mb``: restarting them costs a model load, stopping a call its work."""
        with self._cond:
            idle = [(rss_mb(w.process.pid), w) for w in self._workers if not w.busy]
            idle = [(mb, w) for mb, w in idle if mb > min_mb]
            if not idle:
                return False
            _, worker = max(idle, key=lambda pair: pair[0])
            worker.busy = True  # nobody takes it while it is stopped
        self._release(worker, kill=True)
        return True

    def total_mb(self) -> float:
        """Resident memory of this process and its workers together (MB)."""
        return rss_mb(os.getpid()) + sum(rss_mb(pid) for pid in self.pids())

    def pids(self) -> list[int]:
        """Process ids of the running workers."""
        with self._cond:
            return [w.process.pid for w in self._workers if w.process.pid is not None]

    def close(self) -> None:
        """Stop every worker (calls under way fail with :class:`WorkerError`)."""
        with self._cond:
            self._closed = True
            workers = list(self._workers)
            self._cond.notify_all()
        for w in workers:
            w.stop()


if __name__ == "__main__":  # a worker: python -m pipeline.workers READ_FD WRITE_FD [module:function]
    _worker_main(
        Connection(int(sys.argv[1]), writable=False),
        Connection(int(sys.argv[2]), readable=False),
        sys.argv[3] if len(sys.argv) > 3 else "",
    )
