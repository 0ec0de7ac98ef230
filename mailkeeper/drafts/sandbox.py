"""The Jinja2 environment drafts are rendered in: sandboxed (no access to Python internals)
and bounded, so a template cannot exhaust the machine.

A template is the rep's file, but a typo or a pasted snippet must not take 24 GB or run for
minutes inside the daemon. Each bound raises TemplateLimit, which compose.py reports with the
template's file and line:
- `range()` gives at most MAX_RANGE items;
- `*` and `**` may not build a string or list longer than MAX_OUTPUT, or a number above
  MAX_NUMBER; `%` and str methods may not pad to a huge width;
- a number passed to a filter (center, indent, truncate, ...) is at most MAX_NUMBER;
- a value read from a variable or attribute is at most MAX_OUTPUT characters (a string
  doubled in a loop stops there);
- a render takes at most TIME_LIMIT seconds (checked at every loop step, call and lookup)
  and its output is at most MAX_OUTPUT characters.
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Iterator
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

MAX_RANGE = 10_000
MAX_NUMBER = 100_000
MAX_OUTPUT = 1_000_000  # characters: a draft is a few kB
TIME_LIMIT = 5.0  # seconds per render; the shipped templates take milliseconds
_WIDE_FORMAT = re.compile(r"[%:<>^=][-+#0 ]*\d{6,}|\{[^}]*\d{6,}")


class TemplateLimit(Exception):
    """A template went past one of the sandbox's bounds; the message says which."""


class BoundedEnvironment(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.deadline = math.inf
        self.globals["range"] = self._range
        for name, f in list(self.filters.items()):
            self.filters[name] = _bounded_filter(f, name)

    # ---- time
    def start(self) -> None:
        self.deadline = time.monotonic() + TIME_LIMIT

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimit(
                f"rendering took more than {TIME_LIMIT:g} s (a loop too long?); "
                "loops in a template should go over a few items"
            )

    # ---- the bounds
    def _range(self, *args: int) -> Iterator[int]:
        rng = range(*args)
        if len(rng) > MAX_RANGE:
            raise TemplateLimit(f"range() of {len(rng)} items; at most {MAX_RANGE}")
        for i in rng:
            self.tick()
            yield i

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.tick()
        if operator == "**" and _number(left) and _number(right):
            if abs(right) > 64 or (abs(left) > 1 and abs(right) * math.log2(abs(left)) > 64):
                raise TemplateLimit(f"{left} ** {right} is too large a number")
        elif operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and _number(times):
                    if len(seq) * max(times, 0) > MAX_OUTPUT:
                        raise TemplateLimit(
                            f"repeating a text or list {times} times makes more than "
                            f"{MAX_OUTPUT} items"
                        )
        elif operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise TemplateLimit("a format with a width of a million or more")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        __self.tick()
        # str.format comes wrapped by the sandbox: the string is the wrapped method's owner
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        if isinstance(owner, str):
            for value in (owner, *args, *kwargs.values()):
                if isinstance(value, str) and _WIDE_FORMAT.search(value):
                    raise TemplateLimit("a format with a width of a million or more")
                if _number(value) and abs(value) > MAX_NUMBER:
                    raise TemplateLimit(f"the number {value} is above {MAX_NUMBER}")
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.tick()
        return _small(super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.tick()
        return _small(super().getitem(obj, argument))

    def render(self, template: Any, context: dict[str, Any]) -> str:
        """`template` rendered with the time and size bounds."""
        self.start()
        try:
            out: list[str] = []
            size = 0
            for chunk in template.generate(**context):
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise TemplateLimit(f"the text is longer than {MAX_OUTPUT} characters")
                out.append(chunk)  # time is checked inside the template, where its line is
            return "".join(out)
        finally:
            self.deadline = math.inf


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _small(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_OUTPUT:
        raise TemplateLimit(f"a text longer than {MAX_OUTPUT} characters")
    return value


def _bounded_filter(f: Any, name: str) -> Any:
    @functools.wraps(f)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if _number(value) and abs(value) > MAX_NUMBER:
                raise TemplateLimit(f"filter {name}: the number {value} is above {MAX_NUMBER}")
            if isinstance(value, str) and len(value) > MAX_OUTPUT:
                raise TemplateLimit(f"filter {name}: a text longer than {MAX_OUTPUT} characters")
        if name == "format" and args and isinstance(args[0], str):
            if _WIDE_FORMAT.search(args[0]):
                raise TemplateLimit("a format with a width of a million or more")
        return _small(f(*args, **kwargs))

    return bounded
