"""The formula language of generated questions: arithmetic on parameters, never Python ``eval``.

    0.5 * log(p) - max(a, b) ^ 2 / (n + 1)

Numbers (``12``, ``0.05``, ``1e-3``), parameter names, ``+ - * /``, ``^`` (or ``**``) for powers, unary
minus, parentheses, the constant ``pi`` and the functions in FUNCTIONS. A formula is parsed once
(``compile_formula``) into a small tree and evaluated per variant (``Formula.evaluate``) in floats; a
result that is not a finite number (a division by zero, the log of a negative number, an overflow) is a
FormulaError with a sentence an author can act on. Formulas are bounded in length and nesting, so a
content file cannot make `quizgen check` spin.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Mapping

MAX_LENGTH = 500  # characters in one formula
MAX_DEPTH = 40  # nested parentheses, calls and unary signs


class FormulaError(ValueError):
    """A formula that does not parse, or that fails for some parameter values."""


def _log(x: float, base: float | None = None) -> float:
    if x <= 0:
        raise FormulaError(f"log of {_shown(x)}: the logarithm needs a positive number")
    if base is None:
        return math.log(x)
    if base <= 0 or base == 1:
        raise FormulaError(f"log base {_shown(base)}: the base must be positive and not 1")
    return math.log(x, base)


def _sqrt(x: float) -> float:
    if x < 0:
        raise FormulaError(f"sqrt of {_shown(x)}: the square root needs a number ≥ 0")
    return math.sqrt(x)


def _round(x: float, digits: float = 0) -> float:
    if digits != int(digits) or not -10 <= digits <= 15:
        raise FormulaError(f"round(…, {_shown(digits)}): the digits must be a whole number from -10 to 15")
    return float(round(x, int(digits)))


def _exp(x: float) -> float:
    if x > 700:
        raise FormulaError(f"exp({_shown(x)}) is too large")
    return math.exp(x)


# name: (function, fewest arguments, most arguments or None for any number)
FUNCTIONS: dict[str, tuple[Callable[..., float], int, int | None]] = {
    "log": (_log, 1, 2),  # natural log; log(x, b) in base b
    "exp": (_exp, 1, 1),
    "sqrt": (_sqrt, 1, 1),
    "abs": (abs, 1, 1),
    "round": (_round, 1, 2),  # round(x) to a whole number, round(x, d) to d decimals
    "floor": (lambda x: float(math.floor(x)), 1, 1),
    "ceil": (lambda x: float(math.ceil(x)), 1, 1),
    "min": (min, 1, None),
    "max": (max, 1, None),
}
CONSTANTS = {"pi": math.pi}

_TOKEN = re.compile(r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<name>[A-Za-z_]\w*)"
                    r"|(?P<op>\*\*|[-+*/^(),]))")


def _shown(value: float) -> str:
    return f"{value:.6g}"


@dataclass(frozen=True)
class Formula:
    """A parsed formula: ``evaluate(values)`` for one variant, ``names`` the parameters it reads."""

    source: str
    tree: tuple
    names: frozenset[str]

    def evaluate(self, values: Mapping[str, float | str]) -> float:
        try:
            result = _evaluate(self.tree, values)
        except ZeroDivisionError:
            raise FormulaError("division by zero") from None
        except OverflowError:
            raise FormulaError("the result is too large") from None
        except TypeError:  # a text parameter in arithmetic
            raise FormulaError("a text parameter cannot take part in arithmetic") from None
        if not isinstance(result, (int, float)) or not math.isfinite(result):
            raise FormulaError("the result is not a finite number")
        return float(result)


def _evaluate(tree: tuple, values: Mapping[str, float | str]):
    kind = tree[0]
    if kind == "number":
        return tree[1]
    if kind == "name":
        return values[tree[1]] if tree[1] in values else CONSTANTS[tree[1]]
    if kind == "neg":
        return -_evaluate(tree[1], values)
    if kind == "call":
        function = FUNCTIONS[tree[1]][0]
        return function(*(_evaluate(argument, values) for argument in tree[2]))
    left, right = _evaluate(tree[1], values), _evaluate(tree[2], values)
    if kind == "+":
        return left + right
    if kind == "-":
        return left - right
    if kind == "*":
        return left * right
    if kind == "/":
        return left / right
    # "^": float powers; a negative base with a fractional exponent has no real value
    if left < 0 and right != int(right):
        raise FormulaError(f"{_shown(left)} ^ {_shown(right)} has no real value")
    if left == 0 and right < 0:
        raise ZeroDivisionError
    return math.pow(left, right)


def compile_formula(source: str, known: Mapping[str, object] | frozenset[str] | set[str] = frozenset()) -> Formula:
    """Parse ``source``; a name that is neither a parameter in ``known``, a constant nor a function is an
    error, as is any syntax the language lacks."""
    if len(source) > MAX_LENGTH:
        raise FormulaError(f"the formula is {len(source)} characters long; at most {MAX_LENGTH}")
    tokens = _tokens(source)
    parser = _Parser(tokens, source, set(known))
    tree = parser.expression(0)
    if parser.position < len(tokens):
        raise FormulaError(f"unexpected '{tokens[parser.position][1]}' in '{source}'")
    return Formula(source, tree, frozenset(parser.names))


def _tokens(source: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while source[position:].strip():
        match = _TOKEN.match(source, position)
        if match is None:
            bad = source[position:].strip()[0]
            raise FormulaError(f"'{bad}' cannot appear in a formula (numbers, parameter names, + - * / ^, "
                               f"parentheses and {', '.join(FUNCTIONS)})")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    if not tokens:
        raise FormulaError("the formula is empty")
    return tokens


class _Parser:
    """Recursive descent: sum > product > sign > power > atom."""

    def __init__(self, tokens, source, known):
        self.tokens, self.source, self.known = tokens, source, known
        self.position, self.names = 0, set()

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FormulaError(f"'{self.source}' ends too early")
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token[1] != text:
            raise FormulaError(f"expected '{text}' but found '{token[1]}' in '{self.source}'")

    def deeper(self, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise FormulaError(f"the formula nests deeper than {MAX_DEPTH} levels")
        return depth + 1

    def expression(self, depth: int) -> tuple:
        tree = self.product(depth)
        while (token := self.peek()) is not None and token[1] in "+-" and token[0] == "op":
            self.take()
            tree = (token[1], tree, self.product(depth))
        return tree

    def product(self, depth: int) -> tuple:
        tree = self.sign(depth)
        while (token := self.peek()) is not None and token[1] in ("*", "/"):
            self.take()
            tree = (token[1], tree, self.sign(depth))
        return tree

    def sign(self, depth: int) -> tuple:
        token = self.peek()
        if token is not None and token[1] in ("-", "+"):
            self.take()
            operand = self.sign(self.deeper(depth))
            return ("neg", operand) if token[1] == "-" else operand
        return self.power(depth)

    def power(self, depth: int) -> tuple:
        base = self.atom(depth)
        token = self.peek()
        if token is not None and token[1] in ("^", "**"):
            self.take()
            return ("^", base, self.sign(self.deeper(depth)))  # right-associative; 2^-1 allowed
        return base

    def atom(self, depth: int) -> tuple:
        kind, text = self.take()
        if kind == "number":
            value = float(text)
            if not math.isfinite(value):
                raise FormulaError(f"{text} is too large a number")
            return ("number", value)
        if kind == "name":
            following = self.peek()
            if following is not None and following[1] == "(":
                return self.call(text, self.deeper(depth))
            if text in self.known:
                self.names.add(text)
                return ("name", text)
            if text in CONSTANTS:
                return ("name", text)
            if text in FUNCTIONS:
                raise FormulaError(f"{text} is a function: write {text}(…)")
            raise FormulaError(f"unknown name '{text}' in '{self.source}'"
                               + (f" (the parameters are {', '.join(sorted(self.known))})" if self.known
                                  else " (declare it under '#### Parameters')"))
        if text == "(":
            tree = self.expression(self.deeper(depth))
            self.expect(")")
            return tree
        raise FormulaError(f"unexpected '{text}' in '{self.source}'")

    def call(self, name: str, depth: int) -> tuple:
        if name not in FUNCTIONS:
            raise FormulaError(f"unknown function '{name}' (the functions are {', '.join(FUNCTIONS)})")
        self.expect("(")
        arguments = []
        if (token := self.peek()) is not None and token[1] == ")":
            self.take()
        else:
            while True:
                arguments.append(self.expression(depth))
                token = self.take()
                if token[1] == ")":
                    break
                if token[1] != ",":
                    raise FormulaError(f"expected ',' or ')' but found '{token[1]}' in '{self.source}'")
        fewest, most = FUNCTIONS[name][1:]
        if len(arguments) < fewest or (most is not None and len(arguments) > most):
            wanted = str(fewest) if fewest == most else f"{fewest} or more" if most is None else f"{fewest} to {most}"
            raise FormulaError(f"{name}() takes {wanted} argument{'s' if wanted != '1' else ''}, "
                               f"not {len(arguments)}")
        return ("call", name, tuple(arguments))
