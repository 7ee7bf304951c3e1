"""The stage library: importing this package registers every stage module in it.

Each public module (no leading underscore) holds one family of stages; a new module dropped
here is registered without further wiring.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
