"""How every output writes a number and names an option: one scheme each.

The site, the exports, the notebooks, the grader's reports and ``quizgen check`` all call these, so an
option is "C" and a margin is "0.005" wherever a learner or an instructor meets it. This module imports
nothing, so that ``quizgen check`` (which names option letters in its warnings) stays light.
"""

from __future__ import annotations

from decimal import Decimal


def number(value: float | Decimal, digits: int | None = None) -> str:
    """A number as text.

    Exact by default: the shortest decimal that reads back as the same float (a Decimal as it is), with no
    exponent and no trailing ".0" (0.05, 11.2, 2, 0.00001): what an LMS, an XML Schema decimal or a script
    reads. Arithmetic on numbers that are written out belongs in exact() decimals, not floats.
    With ``digits``: rounded to that many significant digits for a person to read, with an exponent
    only for very small or large values (0.03 for 0.030000000000000002, 4.997e+04 at 4 digits).
    """
    if digits is not None:
        return f"{value:.{digits}g}"
    text = format(exact(value) or Decimal(0), "f")  # `or`: -0 is written 0
    return text.rstrip("0").rstrip(".") if "." in text else text


def exact(value: float | Decimal) -> Decimal:
    """The decimal a number stands for as it is written: 0.001 is Decimal("0.001"), not the binary float's
    0.001000000000000000020816…. Sums of these are exact, where float sums carry noise."""
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


def number_range(value: float | Decimal, margin: float | Decimal) -> tuple[str, str]:
    """``value`` − ``margin`` and ``value`` + ``margin`` as text, worked out in decimal from the numbers as
    written: 1.151 ± 0.001 is 1.15 … 1.152 (floats give 1.1500000000000001 … 1.152)."""
    centre, half = exact(value), exact(margin)
    return number(centre - half), number(centre + half)


def option_letter(index: int) -> str:
    """The name of the option at ``index`` (from 0): A … Z, then AA, AB, … AZ, BA, … as spreadsheet
    columns are named, so that every option of any question has a name of its own."""
    if index < 0:
        raise ValueError(f"an option index is never negative (got {index})")
    name = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        name = chr(ord("A") + remainder) + name
    return name


def option_letters(count: int) -> tuple[str, ...]:
    """The names of ``count`` options, in order."""
    return tuple(option_letter(index) for index in range(count))
