"""The allow-list: the only functions a formula may call, and the arguments each takes.

A formula is data, not code. Its terms are evaluated by lmmdx's own evaluator
(:mod:`lmmdx.design.evaluate`), which knows exactly these functions; any other name
followed by ``(`` is refused when the formula is parsed, before any data are read,
with a one-line error naming it. There is no attribute access (``np.f2py.os.system``
is one unknown function name), no Python builtin, no string that is ever evaluated.

Pure data: this module imports neither numpy, pandas nor formulaic.
"""

from __future__ import annotations

from dataclasses import dataclass

from lmmdx.errors import FormulaError
from lmmdx.formula.expr import Call, Expr, Name

__all__ = [
    "BOOLEANS",
    "CATEGORICAL_ROLES",
    "CONSTANTS",
    "CONTRASTS",
    "FUNCTIONS",
    "MATH",
    "MAX_POLY_DEGREE",
    "NUMPY_MATH",
    "Param",
    "Signature",
    "allowed_functions_text",
    "bind",
    "signature",
    "value_names",
]

#: Highest degree of ``poly()``: its model matrix has one column per degree.
MAX_POLY_DEGREE = 25

#: Parameter kinds: an expression evaluated on the data, a whole number, a number,
#: TRUE/FALSE, a contrast name, a factor level.
VALUE, INTEGER, NUMBER, BOOLEAN, CONTRAST, LEVEL = "value", "integer", "number", "boolean", "contrast", "level"

#: Spellings of TRUE and FALSE in a boolean argument (R's and Python's).
BOOLEANS = {"TRUE": True, "T": True, "True": True, "FALSE": False, "F": False, "False": False}
#: Contrasts of ``C(x, contr)``: R's functions, by name.
CONTRASTS = {
    "contr.treatment": "treatment",
    "contr.sum": "sum",
    "contr.helmert": "helmert",
    "contr.poly": "poly",
    "contr.SAS": "SAS",
}
#: Names that are constants inside arithmetic when the data have no column of that name (R's ``pi``).
CONSTANTS = {"pi": 3.141592653589793, "TRUE": 1.0, "FALSE": 0.0, "T": 1.0, "F": 0.0, "Inf": float("inf")}


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of an allowed function.

    Attributes
    ----------
    name : str
    kind : str
        ``value`` (evaluated on the data), ``integer``, ``number``, ``boolean``,
        ``contrast`` or ``level`` (constants, checked when the formula is parsed).
    required : bool
    """

    name: str
    kind: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class Signature:
    """What an allowed function does and the parameters it takes, in order.

    Attributes
    ----------
    name : str
    role : str
        ``math`` (elementwise), ``identity`` (``I``), ``scale``, ``poly``, ``factor``,
        ``ordered``, ``relevel``, ``contrast`` (``C``), ``numeric``, ``integer``, ``offset``.
    params : tuple of Param
    doc : str
        One line for the README's table.
    """

    name: str
    role: str
    params: tuple[Param, ...]
    doc: str


def _x(*more: Param) -> tuple[Param, ...]:
    return (Param("x", VALUE, True), *more)


#: R's elementwise math functions and the numpy ufunc each is (``log(x, base)`` takes a base).
MATH = {
    "log": "log", "log2": "log2", "log10": "log10", "log1p": "log1p", "exp": "exp", "expm1": "expm1",
    "sqrt": "sqrt", "abs": "abs", "sign": "sign", "floor": "floor", "ceiling": "ceil", "trunc": "trunc",
    "sin": "sin", "cos": "cos", "tan": "tan", "asin": "arcsin", "acos": "arccos", "atan": "arctan",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "asinh": "arcsinh", "acosh": "arccosh",
    "atanh": "arctanh",
}
#: numpy's elementwise math functions, callable as ``np.NAME(x)`` or ``numpy.NAME(x)``.
NUMPY_MATH = (
    "abs", "absolute", "fabs", "sign", "log", "log2", "log10", "log1p", "exp", "exp2", "expm1", "sqrt",
    "cbrt", "square", "reciprocal", "floor", "ceil", "trunc", "rint", "sin", "cos", "tan", "arcsin",
    "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg",
)


def _build() -> dict[str, Signature]:
    table: dict[str, Signature] = {}

    def add(name: str, role: str, params: tuple[Param, ...], doc: str) -> None:
        table[name] = Signature(name, role, params, doc)

    add("I", "identity", _x(), "arithmetic as written: + - * / ^ (or **) %% %/%, unary -, comparisons")
    for name in MATH:
        extra = (Param("base", NUMBER),) if name == "log" else ()
        add(name, "math", _x(*extra), "elementwise, as in R" + ("; log(x, base)" if extra else ""))
    add("round", "math", _x(Param("digits", NUMBER)), "round(x, digits = 0), half to even")
    for prefix in ("np.", "numpy."):
        for name in NUMPY_MATH:
            add(prefix + name, "math", _x(), "numpy's elementwise function")
    add("scale", "scale", _x(Param("center", BOOLEAN), Param("scale", BOOLEAN)),
        "centred by the mean and divided by the SD (n − 1), as R's scale()")
    add("poly", "poly", _x(Param("degree", INTEGER), Param("raw", BOOLEAN)),
        "orthogonal polynomials of degree 1..k with R's coefficients; raw = TRUE for powers")
    add("factor", "factor", _x(), "categorical, levels sorted (a factor's own order kept)")
    add("as.factor", "factor", _x(), "same as factor()")
    add("ordered", "ordered", _x(), "ordered categorical, polynomial contrasts (.L, .Q, .C, ^4 ...)")
    add("as.ordered", "ordered", _x(), "same as ordered()")
    add("relevel", "relevel", _x(Param("ref", LEVEL, True)), "categorical with level ref first (the reference)")
    add("C", "contrast", _x(Param("contr", CONTRAST)),
        "categorical with the contrasts contr.treatment (default), contr.sum, contr.helmert, contr.poly, contr.SAS")
    add("as.character", "character", _x(), "text (a categorical variable with levels sorted as text)")
    add("as.numeric", "numeric", _x(), "a number (a factor's level index, as in R)")
    add("as.double", "numeric", _x(), "same as as.numeric()")
    add("as.integer", "integer", _x(), "a whole number, truncated towards 0")
    add("offset", "offset", _x(), "a known term of the linear predictor (fixed part only)")
    add("cbind", "cbind", (Param("x", VALUE, True), Param("y", VALUE, True)),
        "cbind(successes, failures): the response of a binomial GLMM fitted to counts out of trials")
    return table


#: Every function a formula may call, by name.
FUNCTIONS: dict[str, Signature] = _build()


def allowed_functions_text() -> str:
    """The allowed functions, for an error message: the transforms, R's math, then numpy's."""
    r_names = [n for n in FUNCTIONS if not n.startswith(("np.", "numpy."))]
    r_names.sort(key=lambda n: (FUNCTIONS[n].role == "math", _ROLE_ORDER.get(FUNCTIONS[n].role, 0)))
    return ", ".join(r_names) + "; and numpy's elementwise math functions as np.NAME (np.log, np.sqrt, np.cbrt, ...)"


_ROLE_ORDER = {"identity": 0, "factor": 1, "ordered": 2, "relevel": 3, "contrast": 4, "character": 5, "numeric": 6,
               "integer": 7, "poly": 8, "scale": 9, "offset": 10,
               "cbind": 11}


def signature(name: str, formula: str | None = None, position: int | None = None) -> Signature:
    """The signature of an allowed function.

    Raises
    ------
    FormulaError
        ``unknown function 'NAME'``, with the list of allowed functions.
    """
    found = FUNCTIONS.get(name)
    if found is None:
        raise FormulaError(
            f"unknown function {name!r} (a formula may call only these functions: {allowed_functions_text()})",
            formula,
            position,
        )
    return found


def bind(call: Call) -> dict[str, Expr]:
    """The arguments of an allowed call by parameter name (positional first, then named).

    Raises
    ------
    FormulaError
        Unknown function, too many arguments, an unknown or repeated name, a missing
        required argument.
    """
    sig = signature(call.function)
    params = sig.params
    name = call.function
    if len(call.args) > len(params):
        raise FormulaError(f"{name}() takes at most {len(params)} argument(s), got {len(call.args)}")
    bound: dict[str, Expr] = {p.name: a for p, a in zip(params, call.args, strict=False)}
    known = {p.name for p in params}
    for key, value in call.kwargs:
        if key not in known:
            raise FormulaError(f"{name}() has no argument {key!r} (its arguments: {', '.join(p.name for p in params)})")
        if key in bound:
            raise FormulaError(f"the argument {key!r} of {name}() is given twice")
        bound[key] = value
    for p in params:
        if p.required and p.name not in bound:
            raise FormulaError(f"{name}() needs its argument {p.name!r}")
    return bound


#: Roles of the functions that make their argument categorical.
CATEGORICAL_ROLES = frozenset({"factor", "ordered", "relevel", "contrast", "character"})


def value_names(expr: Expr, numeric_only: bool = False) -> list[str]:
    """The names an expression reads as values (columns, or R's constants), each once, in order.

    Arguments that are constants by their parameter (``center = FALSE``, ``contr.sum``) are
    not values. With ``numeric_only``, a column that is the direct argument of a function
    making it categorical (``factor(x)``, ``C(x, contr.sum)``) is left out.
    """
    out: list[str] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            if node.name not in out:
                out.append(node.name)
        elif isinstance(node, Call):
            sig = signature(node.function)
            kinds = {p.name: p.kind for p in sig.params}
            bound = bind(node)
            values = [v for k, v in bound.items() if kinds[k] == VALUE]
            if numeric_only and sig.role in CATEGORICAL_ROLES and isinstance(bound.get("x"), Name):
                values = [v for v in values if v is not bound["x"]]
            stack.extend(reversed(values))
        else:
            stack.extend(reversed(node.children()))
    return out
