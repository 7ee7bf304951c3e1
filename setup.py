"""Packaging: which folders become which packages (everything else is in pyproject.toml).

The shipped presets stay in ``presets/`` at the top of the repository (the studio, the README
and users' commands name them there) and are installed as the package data of
``pipeline.presets``; :func:`pipeline.presets_folder` finds them in either place.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["pipeline", "pipeline.*", "studio", "studio.*"]), "pipeline.presets"],
    package_dir={"pipeline.presets": "presets"},
    package_data={"pipeline.presets": ["*.yaml"]},
)
