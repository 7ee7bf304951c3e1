"""Running a batch on a Dask cluster (``dask.distributed``): chunks as tasks, records streamed back.

Point it at a running scheduler (``dask scheduler``, with ``dask worker ADDRESS`` on every
machine) by address, e.g. ``tcp://10.0.0.5:8786``. Every worker needs Clarity installed, and
the inputs and the output folder at the same paths (a shared file system): workers read the
inputs and write the outputs themselves; only the records travel back to the client, which
writes the manifest as chunks finish. A chunk that fails as a whole (its worker died twice)
becomes one error record per input; errors of single inputs are already records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ClarityError, ExitCode
from .inputs import Item
from .local import OnRecords
from .work import Job, one_core, process_chunk

ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"
"""Environment variable read for the scheduler address when ``--scheduler`` is not given."""

RETRIES = 1
"""Times a chunk is sent again after its worker was lost."""


class ClusterError(ClarityError):
    """The Dask scheduler cannot be reached or Dask is not installed."""

    exit_code = ExitCode.USAGE


def chunk_task(items: Sequence[Item], job: Job) -> list[dict[str, Any]]:
    """What one Dask task runs: :func:`~pipeline.batch.work.process_chunk` on one core per thread."""
    one_core()
    return process_chunk(job, items)


class DaskBackend:
    """Run chunks as tasks on the Dask scheduler at ``address``.

    Parameters
    ----------
    address:
        The scheduler, ``tcp://host:8786``; or a ``distributed.Client`` or ``LocalCluster``
        already made (tests, notebooks).
    timeout_s:
        How long to wait for the scheduler, in seconds (``None``: Dask's setting
        ``distributed.comm.timeouts.connect``, 30 s unless configured).
    """

    def __init__(self, address: Any, timeout_s: float | None = None) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self.workers = 1
        self.description = f"Dask scheduler {address}"
        self._client: Any = None
        self._owned = True

    def __enter__(self) -> DaskBackend:
        if hasattr(self.address, "submit"):  # a Client made by the caller, who also closes it
            self._client, self._owned = self.address, False
            self.workers = max(1, sum(self._client.nthreads().values()))
            return self
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError(
                "--scheduler needs Dask: pip install 'dask[distributed]' (Clarity's requirements include it)"
            ) from None
        try:
            timeout = {} if self.timeout_s is None else {"timeout": self.timeout_s}
            self._client = Client(self.address, **timeout)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {self.address}: {exc}; is `dask scheduler` running "
                "there, and is the address right?"
            ) from None
        self.workers = max(1, sum(self._client.nthreads().values()))
        self.description = f"Dask scheduler {self._client.scheduler.address} ({self.workers} worker threads)"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None and self._owned:
            self._client.close()

    def run(self, job: Job, chunks: Sequence[Sequence[Item]], on_records: OnRecords) -> None:
        """Submit every chunk as a task and hand each chunk's records to ``on_records`` as it finishes."""
        from distributed import as_completed

        client = self._client
        assert client is not None, "use DaskBackend as a context manager"
        [shared_job] = client.scatter([job], broadcast=True)
        futures = client.map(chunk_task, chunks, job=shared_job, pure=False, retries=RETRIES)
        owner = {future.key: chunk for future, chunk in zip(futures, chunks, strict=True)}
        try:
            for future in as_completed(futures):
                if future.status == "finished":
                    on_records(owner[future.key], future.result())
                else:
                    on_records(owner[future.key], future.exception() or RuntimeError(future.status))
        except BaseException:
            client.cancel(futures)
            raise
