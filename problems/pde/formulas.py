"""Coefficients given as formulas or functions: the safe formula language and C(t) by quadrature.

On the command line a formula is ``expr:0.5+sin(3*t)``. It is parsed into a syntax tree in which
only arithmetic, numbers, ``t``, ``pi``, ``e`` and a fixed list of numpy functions are allowed,
then evaluated without builtins: a formula from a command line can compute but never reach the
interpreter.
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from physode.errors import InputError

# Names a formula may use: numpy functions only, no builtins, no attributes.
_FORMULA_FUNCTIONS: dict[str, Callable[..., object]] = {
    name: getattr(np, name)
    for name in (
        "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
        "exp", "log", "log10", "sqrt", "abs", "sign", "floor", "minimum", "maximum", "heaviside",
    )
}
_FORMULA_CONSTANTS = {"pi": math.pi, "e": math.e}
MAX_FORMULA_LENGTH = 1000  # characters
MAX_FORMULA_DEPTH = 100  # nested operations; Python's parser and compiler recurse (and crash) far deeper
# The quadrature asks for 1e-13 absolute / 1e-12 relative; an estimated error above this is a
# failure to converge (a formula oscillating faster than the quadrature resolves), not rounding.
QUADRATURE_TOLERANCE = 1e-9
_FORMULA_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Load, ast.Constant,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.USub, ast.UAdd,
)


@dataclass(frozen=True)
class QuadratureCoefficient:
    """Any scalar function c(t); C(t) by adaptive Gauss-Kronrod quadrature (``scipy.integrate.quad``).

    C is accumulated interval by interval between the requested times with absolute and relative
    tolerances of 1e-13 / 1e-12, so for a smooth c the error in C is ~1e-12 relative. A c with
    kinks or jumps is still integrated correctly but may converge more slowly; prefer
    :class:`~physode.problems.pde.coefficients.PiecewiseConstant` for jumps.
    """

    func: Callable[[float], float]
    label: str = "callable"

    @property
    def spec(self) -> str:
        return self.label

    def c(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        with np.errstate(all="ignore"):
            values = [self._call(float(s)) for s in t.ravel()]
        return np.array(values, dtype=np.float64).reshape(t.shape)

    def C(self, t: np.ndarray) -> np.ndarray:  # noqa: N802
        from scipy import integrate  # here: scipy takes a second to import, `physode --help` needs none

        t = np.asarray(t, dtype=np.float64)
        nodes, inverse = np.unique(np.concatenate([[0.0], t.ravel()]), return_inverse=True)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", integrate.IntegrationWarning)  # judged below instead
            pieces = [self._integral(a, b) for a, b in zip(nodes[:-1], nodes[1:])]
        cumulative = np.concatenate([[0.0], np.cumsum(pieces)])
        cumulative -= cumulative[inverse[0]]  # C(0) = 0 even when some times are negative
        return cumulative[inverse[1:]].reshape(t.shape)

    def _integral(self, a: float, b: float) -> float:
        """int_a^b c, or InputError if quadrature cannot reach :data:`QUADRATURE_TOLERANCE`."""
        from scipy import integrate

        value, error = integrate.quad(self._call, a, b, epsabs=1e-13, epsrel=1e-12, limit=200)[:2]
        # A NaN integral is reported by the caller, with the time where c(t) is not finite.
        if math.isfinite(value) and not error <= QUADRATURE_TOLERANCE * max(1.0, abs(value)):
            raise InputError(
                f"coefficient {shorten(self.label)}: the quadrature of c(t) over [{a:g}, {b:g}] does not converge "
                f"(estimated error {error:.2g}, tolerance {QUADRATURE_TOLERANCE:g}), so the data would not be "
                "exact; c(t) oscillates or jumps too fast: use fewer oscillations, more output times "
                "(--nt), or a closed-form family such as sinusoidal or piecewise"
            )
        return value

    def _call(self, s: float) -> float:
        try:
            return float(self.func(s))
        except (ArithmeticError, TypeError, ValueError) as err:
            raise InputError(f"coefficient {shorten(self.label)}: evaluating c({s}) failed: {err}") from None


def compile_formula(formula: str) -> Callable[[float], float]:
    """Compile a formula in ``t`` (e.g. ``"0.5 + sin(3*t)"``) into a function of one float, safely.

    Integer literals become floats so that ``9**9**9`` overflows instead of running forever.
    """
    allowed = ", ".join(["t", *_FORMULA_CONSTANTS, *_FORMULA_FUNCTIONS])
    if len(formula) > MAX_FORMULA_LENGTH:
        raise InputError(f"formula of {len(formula)} characters; at most {MAX_FORMULA_LENGTH} are accepted")
    shown = shorten(formula)
    too_deep = InputError(f"formula {shown} nests operations more than {MAX_FORMULA_DEPTH} deep; simplify it")
    try:
        tree = ast.parse(formula.strip(), mode="eval")
    except SyntaxError as err:
        raise InputError(
            f"formula {shown} is not valid syntax ({err.msg}); write a formula in t "
            "such as 0.5+sin(3*t)"
        ) from None
    except (RecursionError, MemoryError):  # the parser's own stack ran out
        raise too_deep from None
    if _depth(tree) > MAX_FORMULA_DEPTH:
        raise too_deep
    callees = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if not isinstance(node, _FORMULA_NODES):
            raise InputError(
                f"formula {shown}: {type(node).__name__} is not allowed; use "
                f"arithmetic (+ - * / ** %) on numbers and the names {allowed}"
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise InputError(f"formula {shown}: {node.value!r} is not a number")
        if isinstance(node, ast.Call) and (not isinstance(node.func, ast.Name) or node.keywords):
            raise InputError(
                f"formula {shown}: call functions by name with positional "
                f"arguments, e.g. sin(3*t); allowed names: {allowed}"
            )
        if isinstance(node, ast.Name):
            known = _FORMULA_FUNCTIONS if id(node) in callees else {"t": 0, **_FORMULA_CONSTANTS}
            if node.id not in known:
                raise InputError(
                    f"formula {shown}: unknown name {node.id!r}; allowed: {allowed}"
                )
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            node.value = float(node.value)
    code = compile(tree, "<formula>", "eval")
    namespace = {"__builtins__": {}, **_FORMULA_FUNCTIONS, **_FORMULA_CONSTANTS}
    return lambda t: eval(code, namespace, {"t": np.float64(t)})  # noqa: S307 (checked tree)


def shorten(text: str, limit: int = 60) -> str:
    """``repr(text)``, cut to about ``limit`` characters: errors quote a formula, not a page of it."""
    return repr(text) if len(text) <= limit else repr(text[: limit - 3]) + "..."


def _depth(tree: ast.AST) -> int:
    """Nesting depth of a syntax tree, without recursion (the tree may be deeper than the stack)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def coefficient_from_formula(formula: str) -> QuadratureCoefficient:
    """A coefficient from a formula in ``t`` (see :func:`compile_formula`), integrated by quadrature."""
    return QuadratureCoefficient(func=compile_formula(formula), label=f"expr:{formula.strip()}")
