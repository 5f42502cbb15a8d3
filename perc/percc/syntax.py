"""syntax.py: Perc's lexer, layout rule and parser, producing the AST of ast.py.

Perc's syntax is Koka's, as far as the language goes: `type` declarations with constructors,
`fun` definitions, `match` with nested patterns, `if/elif/else`, `val`, dotted calls
(`x.f(y)` is `f(x, y)`), identifiers with dashes (`is-red`). Blocks are written with braces
or, as in Koka, by indentation: the layout rule (layout()) turns indentation into the braces
and semicolons the parser reads.

Invariants: every token and every AST node carries the line and column it starts at, so any
error names file:line:column and the offending text (errors.py).
"""
import re

from . import ast
from .errors import CompileError

KEYWORDS = {"type", "fun", "val", "match", "if", "then", "elif", "else", "pub", "fn", "defer"}
# Tokens that continue the previous line when a line starts with them (no `;` before them).
CONTINUES = {"then", "elif", "else", "->", "&&", "||", "+", "++", "-", "*", "/", "%", "==", "!=",
             "<", "<=", ">", ">=", ".", ")", "]", ",", "="}
# A line ending with one of these opens a block when the next line is indented further.
OPENS_AT_END = {"->", "=", "then", "else", "{"}

TOKEN = re.compile(r"""
    (?P<space>[ \t]+)
  | (?P<comment>//[^\n]*)
  | (?P<int>[0-9]+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<ident>[a-z_][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*'*)
  | (?P<con>[A-Z][A-Za-z0-9_]*)
  | (?P<op>->|:=|\+\+|==|!=|<=|>=|&&|\|\||[-+*/%<>=!(){}\[\],;:.^])
""", re.VERBOSE)


class Token:
    """A token: kind ('ident', 'con', 'int', 'string', 'kw', 'op', 'eof'), text, position."""
    __slots__ = ("kind", "text", "line", "col")

    def __init__(self, kind, text, line, col):
        self.kind, self.text, self.line, self.col = kind, text, line, col

    def __repr__(self):
        return f"{self.kind}:{self.text}@{self.line}:{self.col}"


def lex(path, text):
    """Tokens per line: a list of (indent column, [tokens]) for each non-blank line."""
    lines = []
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    for lineno, line in enumerate(text.split("\n"), 1):
        toks, pos = [], 0
        while pos < len(line):
            m = TOKEN.match(line, pos)
            if not m:
                raise CompileError(path, lineno, pos + 1, "unexpected character", line[pos])
            kind = m.lastgroup
            if kind not in ("space", "comment"):
                t = m.group(0)
                if kind == "ident" and t in KEYWORDS:
                    kind = "kw"
                toks.append(Token(kind, t, lineno, pos + 1))
            pos = m.end()
        if toks:
            lines.append((toks[0].col, toks))
    return lines


def layout(lines, path):
    """Insert the braces and semicolons that indentation stands for: a line indented further
    than the one before continues it, unless that line ended a block opener (`match x`, a
    `fun` or `type` header, a `fn(...)` header, `->`, `=`, `then`, `else`), in which case it
    opens a block; a line
    back at a block's column starts its next item; a line left of it closes the block."""
    out = []
    stack = [1]        # columns of the open layout blocks
    depth = 0          # open explicit parentheses/brackets: no layout inside
    prev = None        # previous line's tokens
    for col, toks in lines:
        if depth == 0 and prev is not None:
            if col > stack[-1] and opens_block(prev):
                out.append(Token("layout", "{", toks[0].line, col))
                stack.append(col)
            elif col > stack[-1] or toks[0].text in CONTINUES and col >= stack[-1]:
                pass  # a continuation line
            else:
                while col < stack[-1]:
                    stack.pop()
                    out.append(Token("layout", "}", prev[-1].line, prev[-1].col + len(prev[-1].text)))
                if col != stack[-1]:
                    raise CompileError(path, toks[0].line, col, "this line's indentation matches "
                                       "no enclosing block", toks[0].text)
                if toks[0].text not in CONTINUES:
                    out.append(Token("layout", ";", prev[-1].line, prev[-1].col + len(prev[-1].text)))
        for t in toks:
            if t.text in ("(", "["):
                depth += 1
            elif t.text in (")", "]"):
                depth = max(0, depth - 1)
            out.append(t)
        prev = toks
    end = (prev[-1].line, prev[-1].col + len(prev[-1].text)) if prev else (1, 1)
    while len(stack) > 1:
        stack.pop()
        out.append(Token("layout", "}", *end))
    out.append(Token("eof", "end of file", *end))
    return out


def opens_block(toks):
    """Whether a line's end opens a block for the lines indented under it."""
    last = toks[-1]
    if last.text in OPENS_AT_END:
        return True
    first = toks[0]
    if first.text in ("fun", "type") or (first.text == "pub" and len(toks) > 1):
        return True
    texts = [t.text for t in toks]
    if "match" in texts and "{" not in texts[texts.index("match"):]:
        return True
    if last.text == ")":  # a fn's header, `fn(x, y)`: its body is the block under it
        depth = 0
        for i in range(len(toks) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(toks[i].text, 0)
            if depth == 0:
                return i > 0 and toks[i - 1].text == "fn"
    return False


class Parser:
    """Recursive descent over the laid-out tokens."""

    def __init__(self, path, tokens):
        self.path, self.toks, self.i = path, tokens, 0

    # ---- token helpers ----
    def peek(self, k=0):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def at(self, text):
        t = self.peek()
        return t.text == text and t.kind in ("op", "kw", "layout")

    def next(self):
        t = self.peek()
        self.i += 1
        return t

    def expect(self, text, what=None):
        t = self.peek()
        if not self.at(text):
            self.error(t, f"expected {what or repr(text)}")
        return self.next()

    def error(self, t, msg):
        text = "end of line" if t.kind == "layout" else t.text
        raise CompileError(self.path, t.line, t.col, msg, text)

    def items(self, item, close):
        """Comma-separated items up to the closing token (consumed); none is allowed when the
        list may be empty (type parameters and arguments after `<` always have one)."""
        out = []
        if not self.at(close) or close == ">":
            out.append(item())
            while self.at(","):
                self.next()
                out.append(item())
        self.expect(close)
        return out

    def skip_semis(self):
        while self.at(";"):
            self.next()

    # ---- declarations ----
    def program(self):
        decls = []
        self.skip_semis()
        while self.peek().kind != "eof":
            if self.at("pub"):
                self.next()
            if self.at("type"):
                decls.append(self.type_decl())
            elif self.at("fun"):
                decls.append(self.fun_decl())
            else:
                self.error(self.peek(), "expected a `type` or `fun` declaration")
            self.skip_semis()
        return decls

    def type_decl(self):
        kw = self.expect("type")
        name = self.ident("a type name")
        params = []
        if self.at("<"):
            self.next()
            params = self.items(lambda: self.ident("a type parameter"), ">")
        cons = []
        self.expect("{", "the constructors of the type, indented or in braces")
        self.skip_semis()
        while not self.at("}"):
            t = self.peek()
            if t.kind != "con":
                self.error(t, "expected a constructor (a capitalised name)")
            self.next()
            fields = []
            if self.at("("):
                self.next()
                fields = self.items(self.field, ")")
            cons.append(ast.ConDecl(t.text, fields, t.line, t.col))
            self.skip_semis()
        self.expect("}")
        return ast.TypeDecl(name, params, cons, kw.line, kw.col)

    def field(self):
        """`name : type`, `: type` or just `type`; `mutable name : type` is a field that
        `x.name := v` assigns (OCaml's mutable fields: cycles without a `ref` cell)."""
        if self.peek().kind == "ident" and self.peek().text == "mutable" and \
                self.peek(1).kind == "ident" and self.peek(2).text == ":":
            self.next()
            name = self.next().text
            self.next()
            return (name, self.type_expr(), True)
        if self.peek().kind == "ident" and self.peek(1).text == ":":
            name = self.next().text
            self.next()
            return (name, self.type_expr(), False)
        if self.at(":"):  # Koka's anonymous field, `Var( : int )`
            self.next()
        return (None, self.type_expr(), False)

    def type_expr(self):
        t = self.peek()
        if self.at("("):  # function type (a, b) -> c, or parenthesised
            self.next()
            args = self.items(self.type_expr, ")")
            if self.at("->"):
                self.next()
                return ast.TFun(args, self.type_expr(), t.line, t.col)
            if not args:
                return ast.TName("unit", [], t.line, t.col)
            if len(args) != 1:
                self.error(t, "a tuple type is not supported")
            return args[0]
        name = self.ident("a type")
        args = []
        if self.at("<"):
            self.next()
            args = self.items(self.type_expr, ">")
        if self.at("->"):
            self.next()
            return ast.TFun([ast.TName(name, args, t.line, t.col)], self.type_expr(), t.line, t.col)
        return ast.TName(name, args, t.line, t.col)

    def fun_decl(self):
        kw = self.expect("fun")
        name = self.ident("a function name")
        params = self.params()
        ret = None
        if self.at(":"):
            self.next()
            self.skip_effect()
            ret = self.type_expr()
        body = self.body()
        return ast.FunDecl(name, params, ret, body, kw.line, kw.col)

    def skip_effect(self):
        """Koka's effect annotations (`div`, `pure`, `total`, `<...>`) before a result type."""
        if self.peek().kind == "ident" and self.peek().text in ("div", "total", "pure", "console", "exn") \
                and self.peek(1).kind in ("ident", "con") or (self.peek().text in ("div", "total", "pure")
                                                              and self.peek(1).text == "("):
            self.next()

    def params(self):
        self.expect("(", "the parameter list")
        return self.items(self.param, ")")

    def param(self):
        borrowed = False
        if self.at("^"):
            self.next()
            borrowed = True
        t = self.peek()
        name = self.ident("a parameter name")
        ty = None
        if self.at(":"):
            self.next()
            ty = self.type_expr()
        return ast.Param(name, ty, borrowed, t.line, t.col)

    def ident(self, what):
        t = self.peek()
        if t.kind != "ident":
            self.error(t, f"expected {what}")
        return self.next().text

    # ---- expressions ----
    def body(self):
        """A function or branch body: a block in braces, or an expression after `=`/`->`."""
        if self.at("="):
            self.next()
        if self.at("{"):
            return self.block()
        return self.expr()

    def block(self):
        start = self.expect("{")
        items = []
        self.skip_semis()
        while not self.at("}"):
            if self.at("val"):
                kw = self.next()
                name = self.ident("a name")
                if self.at(":"):
                    self.next()
                    self.type_expr()
                self.expect("=")
                items.append(("val", name, self.expr(), kw))
            elif self.at("defer"):
                kw = self.next()
                call = self.expr()
                if not isinstance(call, (ast.Call, ast.Lambda)):
                    self.error(kw, "defer takes a call, f(args), or a function, fn() body")
                items.append(("expr", None, ast.Defer(call, kw.line, kw.col), kw))
            else:
                items.append(("expr", None, self.expr(), self.peek()))
            self.skip_semis()
        self.expect("}")
        if not items:
            self.error(start, "an empty block has no value")
        kind, _, last, t = items[-1]
        if kind == "val":
            self.error(t, "a block must end with an expression, not a `val`")
        e = last
        for kind, name, value, t in reversed(items[:-1]):
            if kind == "val":
                e = ast.Let(name, value, e, t.line, t.col)
            else:
                e = ast.Let(None, value, e, value.line, value.col)
        return e

    def expr(self):
        t = self.peek()
        if self.at("if"):
            return self.if_expr()
        if self.at("match"):
            return self.match_expr()
        if self.at("{"):
            return self.block()
        e = self.binary(0)
        if self.at(":="):  # r := value
            op = self.next()
            return ast.Prim(":=", [e, self.expr()], op.line, op.col)
        return e

    def if_expr(self):
        t = self.next()
        cond = self.expr()
        self.expect("then")
        then = self.branch_body()
        if self.at("elif"):
            els = self.if_expr()
        else:
            self.expect("else", "`else` (an `if` needs both branches)")
            els = self.branch_body()
        return ast.If(cond, then, els, t.line, t.col)

    def branch_body(self):
        if self.at("{"):
            return self.block()
        return self.expr()

    def match_expr(self):
        t = self.next()
        scrut = self.expr()
        self.expect("{", "the branches of the match, indented or in braces")
        branches = []
        self.skip_semis()
        while not self.at("}"):
            p = self.pattern()
            self.expect("->")
            branches.append((p, self.branch_body()))
            self.skip_semis()
        self.expect("}")
        if not branches:
            self.error(t, "a match needs at least one branch")
        return ast.Match(scrut, branches, t.line, t.col)

    def pattern(self):
        t = self.peek()
        if t.kind == "ident":
            self.next()
            return ast.PVar(None if t.text == "_" else t.text, t.line, t.col)
        if t.kind == "int":
            self.next()
            return ast.PInt(int(t.text), t.line, t.col)
        if t.kind == "con":
            self.next()
            args = []
            if self.at("("):
                self.next()
                args = self.items(self.pattern, ")")
            return ast.PCon(t.text, args, t.line, t.col)
        if self.at("["):  # [] is Nil
            self.next()
            self.expect("]")
            return ast.PCon("Nil", [], t.line, t.col)
        if self.at("("):  # a tuple's components, or a parenthesised pattern
            self.next()
            args = self.items(self.pattern, ")")
            if len(args) == 1:
                return args[0]
            if not args:
                return ast.PCon("Unit", [], t.line, t.col)
            return ast.PTuple(args, t.line, t.col)
        if self.at("-") and self.peek(1).kind == "int":
            self.next()
            return ast.PInt(-int(self.next().text), t.line, t.col)
        self.error(t, "expected a pattern")

    PREC = [("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">="), ("+", "-", "++"), ("*", "/", "%")]

    def binary(self, level):
        if level == len(self.PREC):
            return self.unary()
        e = self.binary(level + 1)
        while self.peek().kind == "op" and self.peek().text in self.PREC[level]:
            op = self.next()
            rhs = self.binary(level + 1)
            e = ast.Prim(op.text, [e, rhs], op.line, op.col)
        return e

    def unary(self):
        t = self.peek()
        if self.at("!"):
            self.next()
            return ast.Prim("!", [self.unary()], t.line, t.col)
        if self.at("-"):
            self.next()
            return ast.Prim("neg", [self.unary()], t.line, t.col)
        return self.postfix()

    def postfix(self):
        e = self.atom()
        while True:
            if self.at("("):
                args = self.args()
                e = ast.Call(e, args, e.line, e.col)
            elif self.at("."):
                dot = self.next()
                name = self.peek()
                if name.kind != "ident":
                    self.error(name, "expected a function name after `.`")
                self.next()
                fn = ast.Var(name.text, name.line, name.col)
                args = self.args() if self.at("(") else []
                e = ast.Call(fn, [e] + args, dot.line, dot.col)
            else:
                return e

    def args(self):
        """A call's arguments, and Koka's trailing function argument: `f(x) fn(y) body`."""
        self.expect("(")
        args = self.items(self.expr, ")")
        if self.at("fn"):
            args.append(self.atom())
        return args

    def atom(self):
        t = self.peek()
        if t.kind == "int":
            self.next()
            return ast.Int(int(t.text), t.line, t.col)
        if t.kind == "string":
            self.next()
            return ast.Str(bytes(t.text[1:-1], "utf-8").decode("unicode_escape"), t.line, t.col)
        if t.kind == "ident":
            self.next()
            return ast.Var(t.text, t.line, t.col)
        if t.kind == "con":
            self.next()
            args = self.args() if self.at("(") else []
            return ast.Con(t.text, args, t.line, t.col)
        if self.at("fn"):  # fn(x, y) body
            self.next()
            params = self.params()
            return ast.Lambda(params, self.branch_body(), t.line, t.col)
        if self.at("("):
            self.next()
            if self.at(")"):
                self.next()
                return ast.Con("Unit", [], t.line, t.col)
            items = self.items(self.expr, ")")
            if len(items) == 1:
                return items[0]
            return ast.Tuple(items, t.line, t.col)
        if self.at("["):  # list literal
            self.next()
            items = self.items(self.expr, "]")
            e = ast.Con("Nil", [], t.line, t.col)
            for item in reversed(items):
                e = ast.Con("Cons", [item, e], t.line, t.col)
            return e
        self.error(t, "expected an expression")


def parse(path, text):
    """The declarations of a Perc source file."""
    return Parser(path, layout(lex(path, text), path)).program()
