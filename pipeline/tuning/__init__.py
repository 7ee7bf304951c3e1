"""The tuner: search a preset's parameters for the best score on images (``python -m pipeline tune``).

:mod:`.search` runs the search (:func:`tune`, :class:`Search`); :mod:`.result` holds what it
returns; :mod:`.space` derives the search space from the stages' parameter models;
:mod:`.local` makes the local moves; :mod:`.scoring` reads the images in worker processes.
The command line sits with the other subcommands in :mod:`pipeline.cli`.
"""

from __future__ import annotations

from .result import Metric, TrialInfo, TuneResult, format_score
from .search import BATCH, tune

__all__ = ["BATCH", "Metric", "TrialInfo", "TuneResult", "format_score", "tune"]
