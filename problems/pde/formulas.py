"""Coefficients given as formulas or functions: the safe formula language and C(t) by quadrature.

On the command line a formula is ``expr:0.5+sin(3*t)``. It is parsed into a syntax tree in which
only arithmetic, numbers, ``t``, ``pi``, ``e`` and a fixed list of numpy functions are allowed,
then evaluated without builtins: a formula from a command line can compute but never reach the
interpreter.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import integrate

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
        t = np.asarray(t, dtype=np.float64)
        nodes, inverse = np.unique(np.concatenate([[0.0], t.ravel()]), return_inverse=True)
        with np.errstate(all="ignore"):
            pieces = [
                integrate.quad(self._call, a, b, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
                for a, b in zip(nodes[:-1], nodes[1:])
            ]
        cumulative = np.concatenate([[0.0], np.cumsum(pieces)])
        cumulative -= cumulative[inverse[0]]  # C(0) = 0 even when some times are negative
        return cumulative[inverse[1:]].reshape(t.shape)

    def _call(self, s: float) -> float:
        try:
            return float(self.func(s))
        except (ArithmeticError, TypeError, ValueError) as err:
            raise InputError(f"coefficient {self.label}: evaluating c({s}) failed: {err}") from None


def compile_formula(formula: str) -> Callable[[float], float]:
    """Compile a formula in ``t`` (e.g. ``"0.5 + sin(3*t)"``) into a function of one float, safely.

    Integer literals become floats so that ``9**9**9`` overflows instead of running forever.
    """
    allowed = ", ".join(["t", *_FORMULA_CONSTANTS, *_FORMULA_FUNCTIONS])
    try:
        tree = ast.parse(formula.strip(), mode="eval")
    except SyntaxError as err:
        raise InputError(
            f"formula {formula!r} is not valid syntax ({err.msg}); write a formula in t "
            "such as 0.5+sin(3*t)"
        ) from None
    callees = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if not isinstance(node, _FORMULA_NODES):
            raise InputError(
                f"formula {formula!r}: {type(node).__name__} is not allowed; use "
                f"arithmetic (+ - * / ** %) on numbers and the names {allowed}"
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise InputError(f"formula {formula!r}: {node.value!r} is not a number")
        if isinstance(node, ast.Call) and (not isinstance(node.func, ast.Name) or node.keywords):
            raise InputError(
                f"formula {formula!r}: call functions by name with positional "
                f"arguments, e.g. sin(3*t); allowed names: {allowed}"
            )
        if isinstance(node, ast.Name):
            known = _FORMULA_FUNCTIONS if id(node) in callees else {"t": 0, **_FORMULA_CONSTANTS}
            if node.id not in known:
                raise InputError(
                    f"formula {formula!r}: unknown name {node.id!r}; allowed: {allowed}"
                )
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            node.value = float(node.value)
    code = compile(tree, "<formula>", "eval")
    namespace = {"__builtins__": {}, **_FORMULA_FUNCTIONS, **_FORMULA_CONSTANTS}
    return lambda t: eval(code, namespace, {"t": np.float64(t)})  # noqa: S307 (checked tree)


def coefficient_from_formula(formula: str) -> QuadratureCoefficient:
    """A coefficient from a formula in ``t`` (see :func:`compile_formula`), integrated by quadrature."""
    return QuadratureCoefficient(func=compile_formula(formula), label=f"expr:{formula.strip()}")
