"""Parameter expressions (``--tie NAME=EXPR``) are data, not programs.

An expression may use the other parameters' names, numbers, + − × / ** and the one-argument functions of
:data:`FUNCTIONS`, and nothing else: no attribute access, no strings, no containers, no keywords, at most
:data:`MAX_LENGTH` characters and :data:`MAX_NODES` syntax nodes.  :func:`checked` rejects anything else
with one readable line before the expression reaches lmfit's evaluator (asteval), every time a run is
built — for a fit and again for ``plot``, ``report`` and ``--resume`` of a run directory, whose
``run.json`` someone else may have written.  Integer literals are rewritten as floats, so that a power
tower such as ``9**9**9`` overflows at once instead of computing an enormous integer.
"""

from __future__ import annotations

import ast
import math

#: One-argument functions an expression may call (lmfit's evaluator provides them from numpy)
FUNCTIONS = ("abs", "exp", "log", "log10", "sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
             "cosh", "tanh")
#: Named constants an expression may use
CONSTANTS = ("pi",)
MAX_LENGTH, MAX_NODES = 200, 64
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)


class _Floats(ast.NodeTransformer):
    def visit_Constant(self, node):
        return ast.copy_location(ast.Constant(float(node.value)), node)


def _numbers_only(node) -> bool:
    """Whether ``node`` is made of numbers and operators alone (no names, no calls)."""
    def number(n):
        return isinstance(n, ast.Constant) and type(n.value) in (int, float)

    kinds = (ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop)
    return all(isinstance(n, kinds) or number(n) for n in ast.walk(node))


def _finite(node) -> bool:
    """Whether a numbers-only ``node`` evaluates, in floats, to a finite number (checked nodes only)."""
    copy = ast.parse(ast.unparse(node), mode="eval")
    expression = ast.fix_missing_locations(_Floats().visit(copy))
    try:
        # safe: the tree holds numbers and arithmetic operators only (checked by the caller)
        value = eval(compile(expression, "<expression>", "eval"), {"__builtins__": {}})
    except (ArithmeticError, TypeError):
        return False
    return isinstance(value, float) and math.isfinite(value)


def _problem(tree, names, target) -> str | None:
    """Why ``tree`` is not an allowed expression, or None."""
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        return f"it has {len(nodes)} syntax elements, more than {MAX_NODES}"
    for node in nodes:
        if isinstance(node, (ast.Expression, ast.Load, *_OPERATORS)):
            continue
        if isinstance(node, ast.BinOp | ast.UnaryOp):
            if not isinstance(node.op, _OPERATORS):
                return f"the operator {type(node.op).__name__} is not allowed"
            if isinstance(node, ast.BinOp) and _numbers_only(node) and not _finite(node):
                return "a part of it made of numbers alone overflows or is not finite"
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                return f"{node.value!r} is not a number"
        elif isinstance(node, ast.Name):
            if node.id == target:
                return f"{target} cannot be tied to itself"
            if names is not None and node.id not in names and node.id not in FUNCTIONS + CONSTANTS:
                return f"{node.id!r} is not a parameter of the models"
        elif isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
                return "only the functions " + ", ".join(FUNCTIONS) + " may be called"
            if len(node.args) != 1 or node.keywords:
                return f"{node.func.id}() takes exactly one argument"
        else:
            return f"{type(node).__name__} is not allowed (only numbers, parameter names, + - * / ** and functions)"
    return None


def checked(target: str, text: str, names=None) -> str:
    """The expression ``text`` tying parameter ``target``, normalised (integers as floats), if it is allowed;
    ValueError with one line naming what is allowed otherwise.  ``names``: the parameters it may use (None:
    not known yet, any name but ``target`` passes — the syntax and safety check before the models exist)."""
    where = f"--tie {target}={text}"
    known = "other parameters" if names is None else f"the parameters {sorted(set(names) - {target})}"
    allowed = f"allowed: {known}, numbers, + - * / **, " + ", ".join(FUNCTIONS) + " and pi"
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: the expression is empty; {allowed}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"--tie {target}=…: the expression has {len(text)} characters, more than {MAX_LENGTH}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"{where}: not a valid expression ({exc.msg}); {allowed}") from None
    reason = _problem(tree, names, target)
    if reason:
        raise ValueError(f"{where}: {reason}; {allowed}")
    return ast.unparse(_Floats().visit(tree))


__all__ = ["CONSTANTS", "FUNCTIONS", "MAX_LENGTH", "MAX_NODES", "checked"]
