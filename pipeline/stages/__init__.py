"""Every stage module; importing this package registers all stages."""

from . import binarise, colour, components, denoise, geometry, morphology  # noqa: F401
