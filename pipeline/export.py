"""Export a preset as a standalone Python script (OpenCV, NumPy and pytesseract only).

:func:`export_python` writes a readable script that cleans an image exactly as
:func:`pipeline.runner.run` does, pixel for pixel, and then reads it with pytesseract using the
preset's OCR settings (or with RapidOCR, for a preset of that engine)::

    python script.py IMAGE [OUT.png]

No code is written twice: the script holds the *real source* of the stage functions the preset
uses, taken from their modules with :mod:`ast`, and of every module-level helper and constant
they reach (followed transitively, across ``from ._image import ...``). The rest of the script
is copied the same way from :mod:`pipeline.standalone`, an ordinary linted and type-checked
module: ``read_image`` (alpha flattened by :func:`~pipeline.image_conventions.flatten_alpha`),
``write_image``, ``ocr`` (its ``tesseract_ocr`` or ``rapidocr_ocr``, the latter reading with
Clarity's own RapidOCR functions) and ``main``. Generated as text are only the docstring, the
preset (as a comment), the OCR settings (that module's ``OCR_*`` constants, with the preset's
values), ``clean`` (the stage calls, with the preset's parameters) and the two lines that call
``main``.

On the way, the ``@register`` decorators are dropped, the pydantic parameter models are replaced
by ``types.SimpleNamespace`` (annotations naming a model become ``SimpleNamespace``) and only the
imports the copied code uses are emitted. Comments and docstrings inside the copied code are
kept. Names that two modules define differently are renamed apart (the names of
:mod:`pipeline.standalone` are kept; a clashing helper is renamed).

The output is deterministic: the same preset and the same sources give the same text.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from .errors import ClarityError
from .preset import INPUT, Preset
from .reading import second_preset
from .registry import get_stage

_PACKAGE = __name__.split(".")[0]
_STAGES_PACKAGE = f"{_PACKAGE}.stages"
_SCRIPT = f"{_PACKAGE}.standalone"
"""The script's own code: reading and writing images, OCR, ``main``."""
_COPYABLE = (
    _STAGES_PACKAGE,
    _SCRIPT,
    f"{_PACKAGE}.ocr.rapidocr_engine",
    f"{_PACKAGE}.ocr.layout",
    f"{_PACKAGE}.ocr.result",
    f"{_PACKAGE}.ocr.correct",
    f"{_PACKAGE}.image_conventions",
)
"""Clarity modules whose top-level definitions the script may copy (stages, the script's own
code, RapidOCR's reading, image rules)."""


def _copyable(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in _COPYABLE)


_BUILTINS = frozenset(dir(builtins))

# Names the script imports whatever its stages; copied definitions are renamed around them.
# (The names pipeline.standalone defines are reserved by the exporter, see _script_collector.)
_SCRIPT_NAMES = frozenset(
    {"annotations", "cv2", "np", "os", "pytesseract", "shlex", "sys", "SimpleNamespace", "Path"}
)


class ExportError(ClarityError):
    """A stage's source uses a construct the exporter cannot copy (a bug to report)."""


# ----------------------------------------------------------------------------------------------
# Reading the stage modules


@dataclass(frozen=True)
class _Import:
    """A name bound by an absolute import (``import module as name``, ``from module import attr as name``)."""

    name: str
    module: str
    attr: str | None  # None for ``import module [as name]``

    def statement(self) -> str:
        if self.attr is None:
            if self.name == self.module or self.module.startswith(self.name + "."):
                return f"import {self.module}"
            return f"import {self.module} as {self.name}"
        alias = "" if self.attr == self.name else f" as {self.name}"
        return f"from {self.module} import {self.attr}{alias}"


@dataclass
class _Module:
    """A parsed module: its source lines (bytes), top-level definitions and imports."""

    name: str
    path: str
    lines: list[bytes]
    defs: dict[str, ast.stmt] = field(default_factory=dict)
    docs: dict[str, ast.Expr] = field(default_factory=dict)  # attribute docstrings after assignments
    imports: dict[str, _Import] = field(default_factory=dict)
    relative: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (module, attr)


_MODULES: dict[str, _Module] = {}


def _module(name: str) -> _Module:
    """The parsed module ``name`` (cached per process)."""
    cached = _MODULES.get(name)
    if cached is not None:
        return cached
    mod = importlib.import_module(name)
    source = inspect.getsource(mod)
    tree = ast.parse(source)
    info = _Module(name, _display_path(mod), source.encode("utf-8").splitlines(keepends=True))
    body = tree.body
    for index, node in enumerate(body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            info.defs[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            _add_assignment(info, node, body[index + 1] if index + 1 < len(body) else None)
        elif isinstance(node, ast.Import):
            _add_import(info, node)
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            _add_import_from(info, node)
    _MODULES[name] = info
    return info


def _add_assignment(info: _Module, node: ast.Assign | ast.AnnAssign, following: ast.stmt | None) -> None:
    """Record the names an assignment defines, with the docstring after it, if any."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                info.defs[sub.id] = node
                if _is_docstring(following):
                    info.docs[sub.id] = following  # type: ignore[assignment]


def _add_import(info: _Module, node: ast.Import) -> None:
    for alias in node.names:
        bound = alias.asname or alias.name.split(".")[0]
        if alias.name.split(".")[0] == _PACKAGE:
            info.relative[bound] = (alias.name, "")  # a Clarity module: not copyable
        else:
            info.imports[bound] = _Import(bound, alias.name, None)


def _add_import_from(info: _Module, node: ast.ImportFrom) -> None:
    internal = (node.module or "").split(".")[0] == _PACKAGE
    if node.level or internal:
        base = _resolve_relative(info.name, node.level, node.module) if node.level else node.module
        for alias in node.names:
            info.relative[alias.asname or alias.name] = (base, alias.name)  # type: ignore[assignment]
    else:
        for alias in node.names:
            bound = alias.asname or alias.name
            info.imports[bound] = _Import(bound, node.module or "", alias.name)


def _is_docstring(node: ast.stmt | None) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _resolve_relative(module: str, level: int, target: str | None) -> str:
    package = module.rsplit(".", level)[0] if level else module
    return f"{package}.{target}" if target else package


def _display_path(mod: Any) -> str:
    name = mod.__name__
    return name.replace(".", "/") + ".py"


# ----------------------------------------------------------------------------------------------
# Scopes: which names a definition reads from its module


_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.Lambda,
    ast.ClassDef,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


def _outer_parts(scope: ast.AST) -> list[ast.AST]:
    """The parts of a scope-making node evaluated in the enclosing scope."""
    if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        args = scope.args
        parts: list[ast.AST] = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
        if not isinstance(scope, ast.Lambda):
            parts = [*scope.decorator_list, *parts]
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            parts += [a.annotation for a in every if a is not None and a.annotation is not None]
            if scope.returns is not None:
                parts.append(scope.returns)
        return parts
    if isinstance(scope, ast.ClassDef):
        return [*scope.decorator_list, *scope.bases, *scope.keywords]
    return [scope.generators[0].iter]  # type: ignore[attr-defined]


def _inner_parts(scope: ast.AST) -> list[ast.AST]:
    """The parts of a scope-making node evaluated in its own scope."""
    if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return list(scope.body)
    if isinstance(scope, ast.Lambda):
        return [scope.body]
    parts: list[ast.AST] = []
    for index, gen in enumerate(scope.generators):  # type: ignore[attr-defined]
        parts += [gen.target, *gen.ifs] + ([gen.iter] if index else [])
    if isinstance(scope, ast.DictComp):
        return [*parts, scope.key, scope.value]
    return [*parts, scope.elt]  # type: ignore[attr-defined]


def _scope_bound(scope: ast.AST) -> set[str]:
    """Names local to a scope: its arguments and what its own code binds (not nested scopes)."""
    bound: set[str] = set()
    declared_global: set[str] = set()
    if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        args = scope.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        bound.update(a.arg for a in every if a is not None)
    stack = list(_inner_parts(scope))
    while stack:
        sub = stack.pop()
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store | ast.Del):
            bound.add(sub.id)
        elif isinstance(sub, ast.Import | ast.ImportFrom):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in sub.names)
        elif isinstance(sub, ast.Global | ast.Nonlocal):
            declared_global.update(sub.names)
        elif isinstance(sub, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and sub.name:
            bound.add(sub.name)
        if isinstance(sub, _SCOPES):
            if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound.add(sub.name)
            stack.extend(_outer_parts(sub))  # evaluated here, in this scope
            continue
        if isinstance(sub, ast.NamedExpr) and isinstance(sub.target, ast.Name):
            bound.add(sub.target.id)
        stack.extend(ast.iter_child_nodes(sub))
    return bound - declared_global


def _global_loads(node: ast.AST, skipped: set[int]) -> list[ast.Name]:
    """The names a top-level statement reads from its module, in source order.

    Python's scoping is followed: a name bound in a function (argument, assignment, import,
    nested def, ...) is local to it and to the functions nested in it; comprehensions and
    lambdas are scopes of their own. Nodes whose ``id`` is in ``skipped`` are not read.
    """
    found: list[ast.Name] = []

    def visit(sub: ast.AST, visible: frozenset[str]) -> None:
        if id(sub) in skipped:
            return
        if isinstance(sub, _SCOPES):
            for part in _outer_parts(sub):
                visit(part, visible)
            inner = visible | _scope_bound(sub)
            for part in _inner_parts(sub):
                visit(part, inner)
            return
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id not in visible:
            found.append(sub)
        for child in ast.iter_child_nodes(sub):
            visit(child, visible)

    visit(node, frozenset())
    found.sort(key=lambda n: (n.lineno, n.col_offset))
    return found


def _annotations(node: ast.AST) -> list[ast.expr]:
    """The annotation expressions inside ``node`` (arguments, returns, annotated assignments)."""
    found: list[ast.expr] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.arg) and sub.annotation is not None:
            found.append(sub.annotation)
        elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef) and sub.returns is not None:
            found.append(sub.returns)
        elif isinstance(sub, ast.AnnAssign):
            found.append(sub.annotation)
    return found


def _names_in(expr: ast.AST) -> list[ast.Name]:
    return [n for n in ast.walk(expr) if isinstance(n, ast.Name)]


def _string_annotation_names(expr: ast.expr) -> list[str] | None:
    """Names used by a string annotation such as ``"np.ndarray"`` (``None`` if not a string)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        try:
            parsed = ast.parse(expr.value, mode="eval")
        except SyntaxError:
            return []
        return [n.id for n in _names_in(parsed)]
    return None


# ----------------------------------------------------------------------------------------------
# The exporter


@dataclass(frozen=True)
class _Key:
    module: str
    name: str


class _Collector:
    """Collects the definitions and imports that a set of stage functions needs, in order."""

    def __init__(self) -> None:
        self.order: list[_Key] = []
        self.emitted: dict[_Key, str] = {}  # key -> name in the script
        self.imports: dict[str, _Import] = {}  # bound name -> import
        self.given: set[_Key] = set()  # definitions the script writes itself: never copied
        self.given_used: set[_Key] = set()  # those a copied definition reads
        self._substitutes: dict[_Key, _Key] = {}  # a definition read as another one
        self._visiting: set[_Key] = set()
        self._taken: set[str] = set(_SCRIPT_NAMES)
        self._reserved: dict[_Key, str] = {}

    # -- set-up -----------------------------------------------------------------------------

    def reserve(self, key: _Key, name: str) -> None:
        """Give ``key`` the script name ``name`` if it is copied (reserved before any other)."""
        if name in self._taken:
            raise ExportError(f"the script name {name!r} is reserved twice (a bug in the exporter)")
        self._taken.add(name)
        self._reserved[key] = name

    def give(self, key: _Key) -> None:
        """``key`` is written by the script itself, under its own name: read it, never copy it."""
        self.reserve(key, key.name)
        self.emitted[key] = key.name
        self.given.add(key)

    def substitute(self, key: _Key, by: _Key) -> None:
        """Copy ``by`` under ``key``'s name wherever a copied definition reads ``key``."""
        self.reserve(by, key.name)
        self._substitutes[key] = by

    # -- resolution -------------------------------------------------------------------------

    def resolve(self, module: str, name: str) -> tuple[str, Any]:
        """What ``name`` means in ``module``: ("def", key), ("import", _Import), ("model", cls),
        ("builtin", None) or ("internal", obj)."""
        info = _module(module)
        if name in info.defs:
            if isinstance(info.defs[name], ast.ClassDef) and _is_model(
                getattr(sys.modules[module], name, None)
            ):
                return "model", getattr(sys.modules[module], name)
            key = _Key(module, name)
            return "def", self._substitutes.get(key, key)
        if name in info.imports:
            return "import", info.imports[name]
        if name in info.relative:
            target, attr = info.relative[name]
            if _copyable(target):
                if attr in _module(target).defs or attr in _module(target).relative:
                    return self.resolve(target, attr)
                if attr in _module(target).imports:
                    return "import", _module(target).imports[attr]
            obj = getattr(importlib.import_module(target), attr, None) if attr else None
            if _is_model(obj):
                return "model", obj
            return "internal", obj
        if name in _BUILTINS:
            return "builtin", None
        raise ExportError(f"{info.path}: cannot tell where the name {name!r} comes from")

    # -- collection -------------------------------------------------------------------------

    def need(self, key: _Key) -> str:
        """Collect ``key`` and what it reads; returns its name in the script."""
        if key in self.given:
            self.given_used.add(key)
        if key in self.emitted:
            return self.emitted[key]
        if key in self._visiting:  # recursion: the name is reserved below, before the body
            return self._name_for(key)
        self._visiting.add(key)
        self._name_for(key)
        node = _module(key.module).defs[key.name]
        for ref in self._references(key.module, node):
            kind, target = self.resolve(key.module, ref)
            self._use(kind, target, key, ref)
        self._visiting.discard(key)
        self.emitted[key] = self._name_for(key)
        if key not in self.order:
            self.order.append(key)
        return self.emitted[key]

    def _use(self, kind: str, target: Any, user: _Key, ref: str) -> None:
        if kind == "def":
            self.need(target)
        elif kind == "import":
            self.add_import(target)
        elif kind == "internal":
            path = _module(user.module).path
            raise ExportError(
                f"{path}: {user.name} uses {ref!r} from Clarity's own modules, which the script cannot import"
            )
        elif kind == "model":
            path = _module(user.module).path
            raise ExportError(f"{path}: {user.name} uses the parameter model {ref!r} outside an annotation")

    def add_import(self, imp: _Import) -> None:
        known = self.imports.get(imp.name)
        if known is not None and known != imp:
            raise ExportError(f"two stage modules bind {imp.name!r} to different imports")
        if imp.name in self._reserved.values():
            raise ExportError(f"{imp.name!r} is both imported and defined by the stage modules")
        self.imports[imp.name] = imp
        self._taken.add(imp.name)

    def _references(self, module: str, node: ast.stmt) -> list[str]:
        """Global names a top-level definition reads, in source order (annotations naming a
        parameter model and decorators from Clarity's own modules excluded)."""
        skipped = self._skipped_nodes(module, node)
        names = [n.id for n in _global_loads(node, skipped)]
        for annotation in _annotations(node):
            if id(annotation) not in skipped:
                names.extend(_string_annotation_names(annotation) or [])
        seen: set[str] = set()
        return [n for n in names if not (n in seen or seen.add(n))]  # type: ignore[func-returns-value]

    def _skipped_nodes(self, module: str, node: ast.stmt) -> set[int]:
        """ids of sub-nodes not copied or not read: model annotations and internal decorators."""
        skipped: set[int] = set()
        for annotation in _annotations(node):
            if self._is_model_annotation(module, annotation):
                skipped.add(id(annotation))
        for decorator in getattr(node, "decorator_list", []):
            root = _root_name(decorator)
            if root is not None and self._is_internal(module, root):
                skipped.add(id(decorator))
        return skipped

    def _is_model_annotation(self, module: str, annotation: ast.expr) -> bool:
        names = _string_annotation_names(annotation)
        if names is None:
            names = [n.id for n in _names_in(annotation)]
        for name in names:
            try:
                kind, _ = self.resolve(module, name)
            except ExportError:
                continue
            if kind == "model":
                return True
        return False

    def _is_internal(self, module: str, name: str) -> bool:
        try:
            kind, _ = self.resolve(module, name)
        except ExportError:
            return False
        return kind in ("internal", "model")

    def _name_for(self, key: _Key) -> str:
        if key in self._reserved:
            return self._reserved[key]
        name = key.name
        if name in self._taken:
            short = key.module.rsplit(".", 1)[-1].lstrip("_")
            base = f"{name}_{short}"
            name, i = base, 2
            while name in self._taken:
                name, i = f"{base}{i}", i + 1
        self._taken.add(name)
        self._reserved[key] = name
        return name

    # -- emitting ---------------------------------------------------------------------------

    def source_of(self, key: _Key) -> str:
        """The copied source of ``key``, renamed and with model annotations replaced."""
        info = _module(key.module)
        node = info.defs[key.name]
        skipped = self._skipped_nodes(key.module, node)
        self._check_string_annotations(key, node, skipped)
        edits = self._edits(key, node, skipped)
        header = ""
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            kept = [d for d in node.decorator_list if id(d) not in skipped]
            header = "".join("@" + _segment(info.lines, *_span(d)) + "\n" for d in kept)
            new_name = self.emitted[key]
            if new_name != node.name:
                line = info.lines[node.lineno - 1]
                keyword_ = b"class " if isinstance(node, ast.ClassDef) else b"def "
                at = line.index(keyword_ + node.name.encode()) + len(keyword_)
                edits.append(((node.lineno, at), (node.lineno, at + len(node.name.encode())), new_name))
        last: ast.AST = node
        doc = info.docs.get(key.name)
        if doc is not None and isinstance(node, ast.Assign | ast.AnnAssign):
            last = doc
        return header + _apply_edits(info.lines, (node.lineno, 0), _span(last)[1], edits)

    def _edits(
        self, key: _Key, node: ast.stmt, skipped: set[int]
    ) -> list[tuple[tuple[int, int], tuple[int, int], str]]:
        """Model annotations replaced by ``SimpleNamespace``; names of renamed definitions renamed."""
        edits: list[tuple[tuple[int, int], tuple[int, int], str]] = []
        for annotation in _annotations(node):
            if id(annotation) in skipped and not _is_decorator(node, annotation):
                edits.append((*_span(annotation), "SimpleNamespace"))
        for sub in _global_loads(node, skipped):
            kind, target = self.resolve(key.module, sub.id)
            if kind == "def" and self.emitted[target] != sub.id:
                edits.append((*_span(sub), self.emitted[target]))
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for sub in (n for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)):
                new = self.emitted.get(_Key(key.module, sub.id), sub.id)
                if new != sub.id:
                    edits.append((*_span(sub), new))
        return edits

    def _check_string_annotations(self, key: _Key, node: ast.stmt, skipped: set[int]) -> None:
        """Refuse a renamed definition named inside a string annotation (it cannot be renamed there)."""
        for annotation in _annotations(node):
            if id(annotation) in skipped:
                continue
            for ref in _string_annotation_names(annotation) or ():
                kind, target = self.resolve(key.module, ref)
                if kind == "def" and self.emitted[target] != ref:
                    raise ExportError(
                        f"{_module(key.module).path}: cannot rename {ref!r} inside a string annotation"
                    )


def _span(node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
    """(line, column) of the start and the end of ``node``."""
    return (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]


def _readable_order(collector: _Collector) -> list[_Key]:
    """The collected definitions grouped by module (modules in order of first use, each in
    source order), unless a module-level assignment would then run before a name it reads."""
    first_use: dict[str, int] = {}
    for i, key in enumerate(collector.order):
        first_use.setdefault(key.module, i)
    grouped = sorted(
        collector.order, key=lambda k: (first_use[k.module], _module(k.module).defs[k.name].lineno, k.name)
    )
    position = {key: i for i, key in enumerate(grouped)}
    for key in grouped:
        node = _module(key.module).defs[key.name]
        if not isinstance(node, ast.Assign | ast.AnnAssign | ast.ClassDef):
            continue
        for ref in collector._references(key.module, node):
            kind, target = collector.resolve(key.module, ref)
            if kind == "def" and target != key and position.get(target, -1) > position[key]:
                return list(collector.order)
    return grouped


def _is_decorator(node: ast.stmt, sub: ast.AST) -> bool:
    return any(sub is d for d in getattr(node, "decorator_list", []))


def _root_name(expr: ast.expr) -> str | None:
    while isinstance(expr, ast.Call | ast.Attribute | ast.Subscript):
        expr = expr.func if isinstance(expr, ast.Call) else expr.value
    return expr.id if isinstance(expr, ast.Name) else None


def _is_model(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def _segment(lines: list[bytes], start: tuple[int, int], end: tuple[int, int]) -> str:
    return _apply_edits(lines, start, end, [])


def _apply_edits(
    lines: list[bytes],
    start: tuple[int, int],
    end: tuple[int, int],
    edits: list[tuple[tuple[int, int], tuple[int, int], str]],
) -> str:
    """Source from ``start`` to ``end`` ((line, byte column), 1-based lines) with ``edits`` applied."""
    pieces: list[bytes] = []
    cursor = start
    for e_start, e_end, text in sorted(edits):
        if e_start < cursor:
            raise ExportError("overlapping source edits (a bug in the exporter)")
        pieces.append(_slice(lines, cursor, e_start))
        pieces.append(text.encode("utf-8"))
        cursor = e_end
    pieces.append(_slice(lines, cursor, end))
    return b"".join(pieces).decode("utf-8")


def _slice(lines: list[bytes], start: tuple[int, int], end: tuple[int, int]) -> bytes:
    (l0, c0), (l1, c1) = start, end
    if l0 == l1:
        return lines[l0 - 1][c0:c1]
    parts = [lines[l0 - 1][c0:]]
    parts.extend(lines[l0 : l1 - 1])
    parts.append(lines[l1 - 1][:c1])
    return b"".join(parts)


# ----------------------------------------------------------------------------------------------
# The script


def _literal(value: Any) -> str:
    """Python source for a parameter value (deterministic; text in double quotes)."""
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1].replace("\\'", "'") + '"'
        return text
    return repr(tuple(value) if isinstance(value, list) else value)


def _namespace(params: BaseModel) -> str:
    """``p = SimpleNamespace(...)`` for a stage's parameters, wrapped to about 100 columns."""
    args = [f"{k}={_literal(v)}" for k, v in params.model_dump(mode="python").items()]
    one_line = f"    p = SimpleNamespace({', '.join(args)})"
    if len(one_line) <= 100:
        return one_line
    lines, current = [], ""
    for arg in args:
        if current and len(current) + len(arg) + 10 > 100:
            lines.append(current)
            current = ""
        current += ("" if not current else " ") + arg + ","
    lines.append(current)
    body = "".join(f"        {line}\n" for line in lines)
    return f"    p = SimpleNamespace(\n{body}    )"


def _docstring_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _comment_block(text: str) -> str:
    return "".join(f"#   {line}".rstrip() + "\n" for line in text.splitlines())


def _stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names


def _import_block(imports: list[_Import]) -> str:
    std = sorted(_merged({i.statement() for i in imports if _stdlib(i.module)}), key=_import_sort_key)
    third = sorted(_merged({i.statement() for i in imports if not _stdlib(i.module)}), key=_import_sort_key)
    return "\n".join(std) + "\n\n" + "\n".join(third) + "\n"


def _merged(statements: set[str]) -> list[str]:
    """One ``from m import a, b`` per module, names in isort's order (constants, classes, functions)."""
    plain = [s for s in statements if not s.startswith("from ")]
    names: dict[str, list[str]] = {}
    for statement in statements - set(plain):
        module, imported = statement[len("from ") :].split(" import ", 1)
        names.setdefault(module, []).append(imported)

    def order(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)

    return plain + [f"from {m} import {', '.join(sorted(n, key=order))}" for m, n in names.items()]


def _import_sort_key(statement: str) -> tuple[int, str, str]:
    """isort's order within a section: ``import x`` lines first, then ``from x import y``, by module."""
    words = statement.split()
    return (0 if words[0] == "import" else 1, words[1].lower(), statement)


def _clean_function(preset: Preset, names: dict[str, str]) -> str:
    engine = preset.ocr.engine
    uses_outputs = any(get_stage(s.stage).takes_source for s in preset.stages if s.runs_with(engine))
    lines = [
        "def clean(image: np.ndarray) -> np.ndarray:",
        '    """Run the preset\'s stages on a uint8 gray or BGR image; returns the cleaned image."""',
    ]
    if uses_outputs:
        lines.append(f"    outputs = {{{_literal(INPUT)}: image}}  # images a later stage's source can name")
    for index, spec in enumerate(preset.stages, start=1):
        label = spec.stage + (f" (id: {spec.id})" if spec.id else "")
        if not spec.runs_with(engine):
            why = "disabled in the preset" if not spec.enabled else f"not for the {engine} engine"
            lines.append(f"    # {index}. {label}: {why}, the image passes through")
        else:
            stage = get_stage(spec.stage)
            call = f"{names[spec.stage]}(image, p"
            if stage.takes_source:
                source = spec.source or INPUT
                label += f", source: {source}"
                call += f", source=outputs[{_literal(source)}]"
            lines.append(f"    # {index}. {label}")
            lines.append(_namespace(spec.params))
            lines.append(f"    image = {call})")
        if spec.id is not None and uses_outputs:
            lines.append(f"    outputs[{_literal(spec.id)}] = image")
    lines.append("    return image")
    return "\n".join(lines) + "\n"


def _ocr_args(preset: Preset) -> list[str]:
    ocr = preset.ocr
    args = ["--oem", str(ocr.oem)]
    if ocr.dpi is not None:
        args += ["--dpi", str(ocr.dpi)]
    for name, value in ocr.tesseract_variables().items():
        args += ["-c", f"{name}={value}"]
    return args


def _script_docstring(preset: Preset, rapid: bool) -> str:
    """The exported script's docstring: what it does, how to run it, what it needs."""
    title = preset.name.strip() or "untitled"
    description = " ".join(preset.description.split())
    summary = textwrap.fill(description, 92) if description else ""
    stage_list = (
        ", ".join(s.stage for s in preset.stages if s.runs_with(preset.ocr.engine))
        or "none: the image is read as it is"
    )
    engine = "RapidOCR" if rapid else "Tesseract"
    doc = [
        f"Clean an image with the Clarity preset {title!r}, then read it with {engine}.",
        "",
    ]
    if summary:
        doc += [summary, ""]
    doc += [
        "Usage: python THIS_SCRIPT.py IMAGE [OUT.png]",
        "",
        f"Prints the text {engine} reads in the cleaned image; OUT.png receives the cleaned image.",
        "Needs Python 3.10+, opencv-python(-headless), numpy, "
        + ("rapidocr and onnxruntime." if rapid else "pytesseract and the tesseract program."),
        *textwrap.wrap(f"Stages: {stage_list}.", 92),
        "",
        "Exported by Clarity: the stage functions below are copied from its sources and give the",
        "same pixels as the Clarity runner"
        + (", and its RapidOCR reading functions the same text." if rapid else "."),
    ]
    if second_preset(preset) is not None:
        doc += [
            "",
            *textwrap.wrap(
                f"The preset also reads with a second engine ({preset.ocr.second_engine}) and keeps the "
                "reading with more dictionary words; this script reads with the first engine only.",
                92,
            ),
        ]
    return '"""' + _docstring_text("\n".join(doc)) + '\n"""\n'


def _settings(preset: Preset, rapid: bool) -> dict[str, str]:
    """The script's OCR settings for ``preset``: each one's value (and comment), by name.

    Every ``OCR_*`` constant of :mod:`pipeline.standalone` must have one; the script writes those
    its code reads, in that module's order.
    """
    ocr = preset.ocr
    modes = ", ".join(str(m) for m in ocr.modes)
    args = ", ".join(_literal(a) for a in _ocr_args(preset))
    return {
        "OCR_LANG": _literal(ocr.lang) + ("  # narrows the alphabet read (eng: ASCII)" if rapid else ""),
        "OCR_MODES": f"[{modes}]  # page segmentation modes; the most confident reading wins",
        "OCR_EMPTY_PSM": f"{ocr.empty_psm}  # an empty reading is read again in this mode",
        "OCR_ARGS": f"[{args}]  # oem, dpi, -c variables",
        "OCR_TIMEOUT_S": repr(ocr.timeout_s),
        "OCR_PSM": f"{ocr.psm}  # 7, 8, 9, 10, 13: the image is one line; others: a page",
        "OCR_WHITELIST": f"{_literal(ocr.whitelist)}  # only these characters (empty = any)",
        "OCR_BLACKLIST": _literal(ocr.blacklist),
        "OCR_BLURS": f"{list(ocr.alternative_blur)}  # softened copies also read (Gaussian sigma, px)",
        "OCR_ORIGINAL": f"{ocr.also_read_original}  # the image before the stages also read",
        "OCR_ZERO_AS_O": f"{ocr.zero_as_o}  # a 0 in a word of letters read as O",
    }


def _script_collector(settings: dict[str, str], rapid: bool) -> _Collector:
    """A collector that copies :mod:`pipeline.standalone` into the script under its own names.

    Its settings and ``clean`` are not copied (the script writes them), and its ``ocr`` is the
    engine's reading function (:func:`~pipeline.standalone.tesseract_ocr` or
    :func:`~pipeline.standalone.rapidocr_ocr`), copied under the name ``ocr``. The other names
    are reserved first, so a stage helper of the same name is the one renamed.
    """
    constants = {name for name in _module(_SCRIPT).defs if name.startswith("OCR_")}
    if constants != set(settings):
        raise ExportError(f"{_SCRIPT}'s OCR_* constants and the exporter's settings differ (a bug)")
    collector = _Collector()
    reader = _Key(_SCRIPT, "rapidocr_ocr" if rapid else "tesseract_ocr")
    collector.substitute(_Key(_SCRIPT, "ocr"), reader)
    memo = _Key(_SCRIPT, "remember")  # the stages' memo: the script computes each step once
    collector.substitute(_Key(f"{_STAGES_PACKAGE}._memo", "remember"), memo)
    for name in _module(_SCRIPT).defs:
        key = _Key(_SCRIPT, name)
        if name in settings or name == "clean":
            collector.give(key)
        elif name != "ocr" and key not in (reader, memo):
            collector.reserve(key, name)
    collector.add_import(_Import("np", "numpy", None))  # clean()'s annotations
    collector.add_import(_Import("sys", "sys", None))  # the ``if __name__ == "__main__"`` tail
    return collector


def _stage_names(preset: Preset, collector: _Collector) -> dict[str, str]:
    """Collect the stage functions ``preset`` runs; returns each stage's function name in the script."""
    names: dict[str, str] = {}
    for spec in preset.stages:
        if not spec.runs_with(preset.ocr.engine) or spec.stage in names:
            continue
        func = get_stage(spec.stage).func
        module = func.__module__
        if func.__name__ not in _module(module).defs:
            raise ExportError(
                f"stage {spec.stage!r}: {func.__name__} is not a top-level function of {module}"
            )
        names[spec.stage] = collector.need(_Key(module, func.__name__))
    if names:
        collector.add_import(_Import("SimpleNamespace", "types", "SimpleNamespace"))
    return names


def _source_order(keys: Iterable[_Key]) -> list[_Key]:
    """``keys`` sorted by where they are defined (keys of one module: in its source order)."""
    return sorted(keys, key=lambda k: (k.module, _module(k.module).defs[k.name].lineno))


def _blocks(collector: _Collector, keys: list[_Key]) -> str:
    """The copied source of ``keys``, each module's run of them headed by its path."""
    blocks: list[str] = []
    current_module = None
    for key in keys:
        path = _module(key.module).path
        if path != current_module:
            blocks.append(f"# {'-' * 20} from {path} {'-' * max(4, 66 - len(path))}\n")
            current_module = path
        blocks.append(collector.source_of(key).rstrip() + "\n")
    return "\n\n".join(blocks)


def export_python(preset: Preset) -> str:
    """A standalone Python script reproducing ``preset`` (see the module docstring).

    Raises
    ------
    ExportError
        When a stage's source uses something the script cannot carry (an import of Clarity's
        own modules other than the parameter models, a name of unknown origin).
    """
    rapid = preset.ocr.engine == "rapidocr"
    settings = _settings(preset, rapid)
    collector = _script_collector(settings, rapid)
    names = _stage_names(preset, collector)
    collector.need(_Key(_SCRIPT, "main"))  # and what it calls: read_image, ocr, ...

    ordered = _readable_order(collector)
    own = _source_order(k for k in ordered if k.module == _SCRIPT)
    used = [k.name for k in _source_order(collector.given_used) if k.name in settings]
    parts = [
        _script_docstring(preset, rapid),
        "\nfrom __future__ import annotations\n\n",
        _import_block(list(collector.imports.values())),
        "\n",
        "# The preset:\n" + _comment_block(preset.to_yaml()),
        "\n",
        "".join(f"{name} = {settings[name]}\n" for name in used),
        "\n\n",
        _blocks(collector, [k for k in ordered if k.module != _SCRIPT]),
        "\n\n# " + "-" * 20 + " the preset " + "-" * 66 + "\n\n\n",
        _clean_function(preset, names),
        "\n\n",
        _blocks(collector, own),
        '\n\nif __name__ == "__main__":\n    sys.exit(main(sys.argv))\n',
    ]
    text = "".join(parts)
    compile(text, "<exported script>", "exec")  # a bug here is ours: fail loudly, not in the user's hands
    return text


__all__ = ["ExportError", "export_python"]
