"""Batches at scale: ``clarity run`` over files, folders and PDFs, on all cores or a Dask cluster.

Modules, in the order a batch uses them: :mod:`.inputs` (walk folders, name outputs),
:mod:`.pdfpages` (PDF pages in, PDFs joined), :mod:`.manifest` (``manifest.jsonl``, resume),
:mod:`.chunks` (work in chunks), :mod:`.work` (one input: clean, read, write), :mod:`.writers`
(atomic files), :mod:`.pdf` (searchable PDF), :mod:`.textformats` (hOCR, TSV), the backends
:mod:`.local` (processes) and :mod:`.dask_backend`, then :mod:`.run` (the whole batch) and
:mod:`.command` (the CLI's ``run``).
"""

from .run import Batch, Summary, run_batch
from .work import Job

__all__ = ["Batch", "Job", "Summary", "run_batch"]
