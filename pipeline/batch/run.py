"""A whole batch: find the inputs, skip finished ones, hand chunks to a backend, keep the manifest.

Records are written to ``manifest.jsonl`` as chunks finish, failures are printed on stderr as
``<input>: <reason>`` (one line each) and the batch goes on; Ctrl-C stops the workers and
leaves only complete files, so the same command with ``--resume`` carries on where it stopped.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..errors import ExitCode, PresetError
from . import pdfpages
from .chunks import default_chunk_size, split, useful_workers
from .inputs import Item, base_folder, collect
from .manifest import MANIFEST, ManifestWriter, completed, make_record
from .work import ENDINGS, Job
from .writers import atomic_write, remove_stale_temporaries


@dataclass
class Summary:
    """What a batch did. ``interrupted`` is True when Ctrl-C stopped it."""

    total: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        """``SOME_FAILED`` when an input failed, else ``OK``."""
        return ExitCode.SOME_FAILED if self.failed else ExitCode.OK


@dataclass(frozen=True)
class Batch:
    """A batch to run (the ``run`` command's arguments).

    Attributes
    ----------
    job:
        Preset, output folder and output kinds (see :class:`~pipeline.batch.work.Job`).
    inputs:
        Files and folders as given.
    resume:
        Skip inputs that the manifest already holds with this preset (and their outputs exist).
    chunk_size:
        Inputs per chunk; ``None`` picks one from the number of inputs and workers.
    progress:
        Show a progress bar on stderr (only when it is a terminal).
    jobs:
        Worker processes on this machine (default: one per core); a batch of few inputs
        starts fewer (see :func:`~pipeline.batch.chunks.useful_workers`).
    scheduler:
        A Dask scheduler address (or ``distributed.Client``); ``None`` runs on this machine.
    """

    job: Job
    inputs: Sequence[Path]
    resume: bool = False
    chunk_size: int | None = None
    progress: bool = True
    jobs: int = os.cpu_count() or 1
    scheduler: Any = None


def run_batch(batch: Batch) -> Summary:
    """Run ``batch`` on this machine's cores or on the Dask cluster it names.

    Raises
    ------
    PresetError
        The output folder cannot be created or is an input folder.
    ClusterError
        The Dask scheduler cannot be reached.
    """
    start = time.perf_counter()
    job = batch.job
    _check_out(job.out, batch.inputs)
    items, problems = collect(batch.inputs, skip=job.out)
    summary = Summary(total=len(items) + len(problems))
    remove_stale_temporaries(job.out)
    manifest_path = job.out / MANIFEST
    skip = completed(manifest_path, job.digest, job.out, job.kinds) if batch.resume else set()
    todo = [item for item in items if item.key not in skip]
    summary.skipped = len(items) - len(todo)
    backend: Any = make_backend(batch.jobs, batch.scheduler, len(todo)) if todo else nullcontext()
    with backend, ManifestWriter(manifest_path, append=batch.resume) as manifest:  # Dask connects first
        for path, reason in problems:
            _report(summary, manifest, make_record(path, None, job.digest, error=_line(path, reason)))
        tqdm.monitor_interval = 0  # no monitor thread: worker processes are forked (see local.py)
        bar = tqdm(total=len(todo), unit="input", disable=None if batch.progress else True, smoothing=0.05)

        def on_records(chunk: Sequence[Item], result: list[dict[str, Any]] | BaseException) -> None:
            if isinstance(result, BaseException):  # the whole chunk was lost (a worker died)
                reason = f"its worker failed: {type(result).__name__}: {result}"
                result = [make_record(i.path, i.page, job.digest, error=_line(i.path, reason)) for i in chunk]
            for record in result:
                _report(summary, manifest, record, bar)
            bar.update(len(result))

        try:
            if todo:
                size = batch.chunk_size or default_chunk_size(len(todo), backend.workers)
                backend.run(job, split(todo, size), on_records)
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:
            bar.close()
    if "pdf" in job.kinds and not summary.interrupted:
        _join_documents(job, items, todo, summary)
    summary.seconds = time.perf_counter() - start
    return summary


def make_backend(jobs: int, scheduler: Any, inputs_hint: int | None = None) -> Any:
    """The backend for ``--jobs``/``--scheduler``: Dask when an address is given, else local processes.

    ``inputs_hint`` (the number of inputs, when known) keeps small batches in-process.
    """
    if scheduler:
        from .dask_backend import DaskBackend

        return DaskBackend(scheduler)
    from .local import LocalBackend

    workers = jobs if inputs_hint is None else useful_workers(jobs, inputs_hint)
    return LocalBackend(workers)


def _report(
    summary: Summary, manifest: ManifestWriter, record: dict[str, Any], bar: tqdm | None = None
) -> None:
    manifest.write(record)
    if record["error"] is None:
        summary.done += 1
        page = f" page {record['page']}" if record["page"] is not None else ""
        chosen = f" (auto: {record['chosen']})" if record["chosen"] else ""
        line = f"{record['input']}{page}: {len(record['text'])} characters -> {record['outputs']['text']}"
        tqdm.write(line + chosen, file=sys.stdout)
        return
    summary.failed += 1
    summary.errors.append(record["error"])
    if bar is not None:
        bar.write(record["error"], file=sys.stderr)
    else:
        print(record["error"], file=sys.stderr)


def _line(path: Path, reason: str) -> str:
    reason = " ".join(reason.split())
    return reason if reason.startswith(str(path)) else f"{path}: {reason}"


def _check_out(out: Path, inputs: Sequence[Path]) -> None:
    if inputs and os.path.abspath(out) == base_folder(inputs):
        raise PresetError(
            f"{out}: the output folder is the input folder, so outputs would replace inputs; "
            "choose another --out"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PresetError(f"{out}: cannot create the output folder: {exc.strerror}") from None


def _join_documents(job: Job, items: Sequence[Item], todo: Sequence[Item], summary: Summary) -> None:
    """Write ``<doc>.pdf`` holding every page of each PDF input whose pages all have their PDF."""
    touched = {item.path for item in todo if item.page is not None}
    documents: dict[Path, list[Item]] = {}
    for item in items:
        if item.page is not None:
            documents.setdefault(item.path, []).append(item)
    for path, pages in documents.items():
        target = job.out / (pages[0].document_rel + ENDINGS["pdf"])
        parts = [job.out / (page.rel + ENDINGS["pdf"]) for page in pages]
        if (path not in touched and target.is_file()) or not all(p.is_file() for p in parts):
            continue
        try:
            atomic_write(target, pdfpages.join(parts))
        except Exception as exc:  # pdfium's errors are plain exceptions
            summary.failed += 1
            message = _line(path, f"cannot join the page PDFs into {target}: {exc}")
            summary.errors.append(message)
            print(message, file=sys.stderr)
