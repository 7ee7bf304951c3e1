"""Building blocks of :mod:`pipeline.tune`: the search space and the parallel scoring."""
