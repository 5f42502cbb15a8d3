"""ast.py: Perc's abstract syntax, as the parser builds it and the type checker annotates it.

Every node has `line` and `col` (where its text starts). The checker sets `ty` on
expressions; the lowering (lower.py) reads the AST and never changes it.
"""


class Node:
    fields = ()

    def __init__(self, *args):
        names = self.fields + ("line", "col")
        assert len(args) == len(names), (type(self).__name__, args)
        for n, a in zip(names, args):
            setattr(self, n, a)
        self.ty = None

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(repr(getattr(self, f)) for f in self.fields)})"


# ---- declarations ----
class TypeDecl(Node):
    fields = ("name", "params", "cons")


class ConDecl(Node):
    fields = ("name", "fields")  # fields: [(name or None, type expression)]


class FunDecl(Node):
    fields = ("name", "params", "ret", "body")


class Param(Node):
    fields = ("name", "ty_expr", "borrowed")


# ---- type expressions ----
class TName(Node):
    fields = ("name", "args")


class TFun(Node):
    fields = ("args", "result")


# ---- expressions ----
class Int(Node):
    fields = ("value",)


class Str(Node):
    fields = ("value",)


class Var(Node):
    fields = ("name",)


class Con(Node):
    fields = ("name", "args")


class Call(Node):
    fields = ("fn", "args")


class Prim(Node):
    fields = ("op", "args")


class Lambda(Node):
    fields = ("params", "body")  # an anonymous function: fn(x, y) body


class Defer(Node):
    fields = ("call",)  # defer f(args) (arguments evaluated now) or defer fn() body


class Let(Node):
    fields = ("name", "value", "body")  # name None: evaluate value for its effect, drop it


class If(Node):
    fields = ("cond", "then", "els")


class Match(Node):
    fields = ("scrut", "branches")  # branches: [(pattern, expression)]


class Tuple(Node):  # only what a match matches: `match (a, b)` (no tuple values)
    fields = ("items",)


# ---- patterns ----
class PVar(Node):
    fields = ("name",)  # None for `_`


class PInt(Node):
    fields = ("value",)


class PCon(Node):
    fields = ("name", "args")


class PTuple(Node):  # (p1, p2): the branch of a match on a tuple
    fields = ("args",)
