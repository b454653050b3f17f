"""Small builders for the rewritten code (libcst nodes)."""

from __future__ import annotations

import libcst as cst


def awaited(node: cst.BaseExpression) -> cst.Await:
    """``await node``, with the node's own parentheses moved outside."""
    inner = node.with_changes(lpar=[], rpar=[]) if getattr(node, "lpar", None) else node
    return cst.Await(expression=inner, lpar=list(node.lpar), rpar=list(node.rpar))


ATOMS = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.SimpleString,
    cst.FormattedString,
    cst.ConcatenatedString,
    cst.Integer,
    cst.Float,
    cst.List,
    cst.Dict,
    cst.Set,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
)


def parenthesized(node: cst.BaseExpression) -> cst.BaseExpression:
    """``(node)`` where it becomes the value of an attribute, subscript or call and is no
    atom (``await x``, ``a if b else c``, ``a + b``)."""
    if isinstance(node, ATOMS) or getattr(node, "lpar", None):
        return node
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def method_call(receiver: cst.BaseExpression, name: str, *args: cst.Arg) -> cst.Call:
    return cst.Call(
        func=cst.Attribute(value=parenthesized(receiver), attr=cst.Name(name)), args=list(args)
    )


def to_list_all(receiver: cst.BaseExpression) -> cst.Await:
    """``await receiver.to_list(None)``."""
    return awaited(method_call(receiver, "to_list", cst.Arg(cst.Name("None"))))


def keyword(name: str, value: str) -> cst.Arg:
    return cst.Arg(
        keyword=cst.Name(name),
        value=cst.Name(value),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )


def is_none(node: cst.BaseExpression, negate: bool) -> cst.Comparison:
    """``(node) is None`` or ``(node) is not None``."""
    operator = cst.IsNot() if negate else cst.Is()
    return cst.Comparison(
        left=parenthesized(node),
        comparisons=[cst.ComparisonTarget(operator=operator, comparator=cst.Name("None"))],
    )


def async_list_comprehension(generator: cst.GeneratorExp) -> cst.ListComp:
    return cst.ListComp(elt=generator.elt, for_in=generator.for_in)


def collect_async(call: cst.BaseExpression) -> cst.ListComp:
    """``[item async for item in call]``: the list of an async generator's items."""
    return cst.ListComp(
        elt=cst.Name("item"),
        for_in=cst.CompFor(target=cst.Name("item"), iter=call, asynchronous=cst.Asynchronous()),
    )


def asynchronous() -> cst.Asynchronous:
    return cst.Asynchronous()


def coroutine_of(returns: cst.Annotation) -> cst.Annotation:
    """``-> X`` becomes ``-> Coroutine[Any, Any, X]``."""
    elements = [cst.Name("Any"), cst.Name("Any"), returns.annotation]
    return returns.with_changes(
        annotation=cst.Subscript(
            value=cst.Name("Coroutine"),
            slice=[
                cst.SubscriptElement(
                    slice=cst.Index(value=element),
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                    if index < 2
                    else cst.MaybeSentinel.DEFAULT,
                )
                for index, element in enumerate(elements)
            ],
        )
    )
