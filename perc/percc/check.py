"""check.py: Hindley-Milner type inference for Perc, with algebraic data types.

Types are TCon (a named type with arguments: int, bool, string, unit, list<a>, a declared type),
TFn (a function type) and TVar (a unification variable). A function's annotation is its type
scheme: lower-case names in it that are not declared types are its type parameters (Koka's
convention), so annotated functions may be used polymorphically, recursively too. Unannotated
parameters and results are inferred; within the declarations of a program they are
monomorphic until the whole program is checked.

Every expression's node gets `ty` (resolved at the end: resolve()); every Con and PCon node
gets `con` (its Constructor); every Var that names a top-level function gets `fun`.
Errors are CompileErrors at the offending expression.
"""
from . import ast
from .errors import CompileError


class TVar:
    count = 0

    def __init__(self):
        TVar.count += 1
        self.id, self.ref = TVar.count, None

    def __repr__(self):
        return f"'t{self.id}"


class TCon:
    def __init__(self, name, args=()):
        self.name, self.args = name, list(args)

    def __repr__(self):
        return self.name + (f"<{', '.join(map(show, self.args))}>" if self.args else "")


class TFn:
    def __init__(self, args, result):
        self.args, self.result = list(args), result


def prune(t):
    while isinstance(t, TVar) and t.ref is not None:
        t = t.ref
    return t


def show(t):
    t = prune(t)
    if isinstance(t, TVar):
        return f"_{t.id}"
    if isinstance(t, TFn):
        return f"({', '.join(map(show, t.args))}) -> {show(t.result)}"
    return repr(t)


def resolve(t):
    """t with every bound variable replaced by what it is bound to."""
    t = prune(t)
    if isinstance(t, TCon):
        return TCon(t.name, [resolve(a) for a in t.args])
    if isinstance(t, TFn):
        return TFn([resolve(a) for a in t.args], resolve(t.result))
    return t


INT, BOOL, STRING, UNIT = TCon("int"), TCon("bool"), TCon("string"), TCon("unit")
INT32 = TCon("int32")  # Koka's int32: 32 bits, arithmetic wraps around (no overflow panic)
NUMERIC = ("int", "int32")


class DataType:
    """A declared (or built-in) algebraic data type."""

    def __init__(self, name, params, cons):
        self.name, self.params, self.cons = name, params, cons


class Constructor:
    """A constructor: its type, index among its type's constructors, field types (in terms of
    the type's parameters, TVar placeholders), and field names."""

    def __init__(self, name, dtype, index, field_types, field_names, mutable=None):
        self.name, self.dtype, self.index = name, dtype, index
        self.field_types, self.field_names = field_types, field_names
        self.mutable = mutable or [False] * len(field_types)  # fields `x.f := v` assigns

    @property
    def arity(self):
        return len(self.field_types)


class Scheme:
    """A type with quantified variables (instantiated afresh at each use)."""

    def __init__(self, qvars, ty):
        self.qvars, self.ty = qvars, ty


def substitute(t, mapping):
    t = prune(t)
    if isinstance(t, TVar):
        return mapping.get(t, t)
    if isinstance(t, TCon):
        return TCon(t.name, [substitute(a, mapping) for a in t.args])
    return TFn([substitute(a, mapping) for a in t.args], substitute(t.result, mapping))


def instantiate(s):
    # keyed by what each quantified variable stands for now: checking a body may have bound one
    # to another variable (never to a type: check_rigid stops that)
    mapping = {}
    for v in s.qvars:
        p = prune(v)
        if isinstance(p, TVar):
            mapping[p] = TVar()
    return substitute(s.ty, mapping)


def free_vars(t, acc=None):
    acc = [] if acc is None else acc
    t = prune(t)
    if isinstance(t, TVar):
        if t not in acc:
            acc.append(t)
    elif isinstance(t, TCon):
        for a in t.args:
            free_vars(a, acc)
    else:
        for a in t.args:
            free_vars(a, acc)
        free_vars(t.result, acc)
    return acc


BUILTIN_FUNS = {
    # name: (scheme builder)
    "reuse-count": lambda: Scheme([], TFn([], INT)),  # in-place reuses so far (hrc's statistics)
    "live-objects": lambda: Scheme([], TFn([], INT)),  # objects alive now (hrc's statistics)
    "counting": lambda: Scheme([], TFn([], BOOL)),    # whether this mode counts references
    "arg": lambda: Scheme([], TFn([INT, INT], INT)),  # arg(i, default): argv[i] as an integer
    # threads sharing immutable data: spawn(fn() ...) runs the function on a new thread (what it
    # captures is marked shared first), join(t) waits for it and gives its result
    "spawn": lambda: (lambda a: Scheme([a], TFn([TFn([], a)], TCon("thread", [a]))))(TVar()),
    "join": lambda: (lambda a: Scheme([a], TFn([TCon("thread", [a])], a)))(TVar()),
    "panic": lambda: (lambda a: Scheme([a], TFn([STRING], a)))(TVar()),
    "ref": lambda: (lambda a: Scheme([a], TFn([a], TCon("ref", [a]))))(TVar()),
    "println": lambda: (lambda a: Scheme([a], TFn([a], UNIT)))(TVar()),
    "print": lambda: (lambda a: Scheme([a], TFn([a], UNIT)))(TVar()),
    "show": lambda: (lambda a: Scheme([a], TFn([a], STRING)))(TVar()),
    "int32": lambda: Scheme([], TFn([INT], INT32)),  # 13.int32: wraps to 32 bits
    "int": lambda: Scheme([], TFn([INT32], INT)),
    # Koka's inc, dec and is-zero, on int and on int32 (a numeric type variable)
    "inc": lambda: (lambda a: Scheme([a], TFn([a], a)))(TVar()),
    "dec": lambda: (lambda a: Scheme([a], TFn([a], a)))(TVar()),
    "is-zero": lambda: (lambda a: Scheme([a], TFn([a], BOOL)))(TVar()),
}
NUMERIC_BUILTINS = {"inc", "dec", "is-zero"}


class Checker:
    def __init__(self, path):
        self.path = path
        self.types = {}   # name -> DataType
        self.cons = {}    # name -> Constructor
        self.mutable_fields = {}  # field name -> [(Constructor, index)] of the mutable fields
        self.funs = {}    # name -> Scheme (annotated) or monotype (being inferred)
        self.decls = {}   # name -> FunDecl
        for name, ty in (("int", INT), ("bool", BOOL), ("string", STRING), ("unit", UNIT)):
            self.types[name] = DataType(name, [], [])
        self.types["int32"] = DataType("int32", [], [])
        self.numeric = []  # (type, node): must be int or int32, int when nothing decides
        self.types["ref"] = DataType("ref", ["a"], [])  # a mutable cell: ref(v), !r, r := v
        self.types["thread"] = DataType("thread", ["a"], [])  # spawn(fn() ...), join(t)
        self.add_cons(self.types["bool"], [("False", [], []), ("True", [], [])])
        self.add_cons(self.types["unit"], [("Unit", [], [])])

    def error(self, node, msg, text=""):
        raise CompileError(self.path, node.line, node.col, msg, text)

    def add_cons(self, dt, cons):
        for i, (name, tys, names, *mutable) in enumerate(cons):
            c = Constructor(name, dt, i, tys, names, mutable[0] if mutable else None)
            dt.cons.append(c)
            self.cons[name] = c
            for j, m in enumerate(c.mutable):
                if m:
                    self.mutable_fields.setdefault(names[j], []).append((c, j))

    # ---- type expressions ----
    def type_of(self, te, tparams):
        """The type a type expression denotes; tparams maps type-parameter names to TVars
        (new lower-case names are added when `open` is set on the dict)."""
        if isinstance(te, ast.TFun):
            return TFn([self.type_of(a, tparams) for a in te.args], self.type_of(te.result, tparams))
        if te.name in tparams:
            if te.args:
                self.error(te, "a type parameter takes no arguments", te.name)
            return tparams[te.name]
        dt = self.types.get(te.name)
        if dt is None:
            if tparams.get("__open__") and len(te.name) <= 2 and not te.args:
                tparams[te.name] = TVar()
                return tparams[te.name]
            self.error(te, "unknown type", te.name)
        if len(te.args) != len(dt.params):
            self.error(te, f"type {dt.name} takes {len(dt.params)} argument(s), given {len(te.args)}",
                       te.name)
        if dt.name == "int":
            return INT
        return TCon(dt.name, [self.type_of(a, tparams) for a in te.args])

    # ---- unification ----
    def unify(self, a, b, node, what):
        a, b = prune(a), prune(b)
        if a is b:
            return
        if isinstance(a, TVar):
            if a in free_vars(b):
                self.error(node, f"{what}: infinite type ({show(a)} occurs in {show(b)})")
            a.ref = b
            return
        if isinstance(b, TVar):
            return self.unify(b, a, node, what)
        if isinstance(a, TCon) and isinstance(b, TCon) and a.name == b.name \
                and len(a.args) == len(b.args):
            for x, y in zip(a.args, b.args):
                self.unify(x, y, node, what)
            return
        if isinstance(a, TFn) and isinstance(b, TFn) and len(a.args) == len(b.args):
            for x, y in zip(a.args, b.args):
                self.unify(x, y, node, what)
            return self.unify(a.result, b.result, node, what)
        self.error(node, f"type mismatch: {what} has type {show(b)}, expected {show(a)}",
                   snippet(node))

    # ---- the program ----
    def program(self, decls):
        for d in decls:
            if isinstance(d, ast.TypeDecl):
                if d.name in self.types:
                    self.error(d, "type declared twice", d.name)
                self.types[d.name] = DataType(d.name, d.params, [])
        for d in decls:
            if isinstance(d, ast.TypeDecl):
                dt = self.types[d.name]
                dt.tvars = [TVar() for _ in d.params]
                tparams = dict(zip(d.params, dt.tvars))
                cons = []
                for c in d.cons:
                    if c.name in self.cons:
                        self.error(c, "constructor declared twice", c.name)
                    cons.append((c.name, [self.type_of(t, tparams) for _, t, _ in c.fields],
                                 [n for n, _, _ in c.fields], [m for _, _, m in c.fields]))
                self.add_cons(dt, cons)
        funs = [d for d in decls if isinstance(d, ast.FunDecl)]
        for f in funs:
            if f.name in self.decls:  # a program's function hides a built-in of its name
                self.error(f, "function defined twice", f.name)
            self.decls[f.name] = f
            tparams = {"__open__": True}
            args = [self.type_of(p.ty_expr, tparams) if p.ty_expr else TVar() for p in f.params]
            res = self.type_of(f.ret, tparams) if f.ret else TVar()
            f.fn_type = TFn(args, res)
            annotated = f.ret is not None and all(p.ty_expr for p in f.params)
            qvars = [v for k, v in tparams.items() if k != "__open__"]
            self.funs[f.name] = Scheme(qvars, f.fn_type) if annotated else f.fn_type
        for f in funs:
            env = {p.name: t for p, t in zip(f.params, f.fn_type.args)}
            seen = set()
            for p in f.params:
                if p.name in seen:
                    self.error(p, "parameter named twice", p.name)
                seen.add(p.name)
            body = self.infer(f.body, env)
            self.unify(f.fn_type.result, body, f.body, "the function's body")
            self.check_rigid(f)
        self.default_numbers()
        for f in funs:
            self.check_rigid(f)  # a type parameter defaulted to int is fixed too
        for f in funs:
            if not isinstance(self.funs[f.name], Scheme):
                self.funs[f.name] = Scheme(free_vars(f.fn_type), f.fn_type)
        if "main" not in self.decls:
            raise CompileError(self.path, 1, 1, "the program has no `main` function")
        main = self.decls["main"]
        if main.params:
            self.error(main, "`main` takes no parameters", "main")
        for f in funs:
            finish(f.body)
        return self

    def check_rigid(self, f):
        """An annotation's type parameters stand for any type: the body may not fix them."""
        s = self.funs[f.name]
        if not isinstance(s, Scheme):
            return
        seen = set()
        for v in s.qvars:
            p = prune(v)
            if not isinstance(p, TVar) or p in seen:
                self.error(f, f"the annotation says a type parameter is any type, but the body "
                           f"needs {show(p)}", f.name)
            seen.add(p)

    # ---- expressions ----
    def infer(self, e, env):
        e.ty = self.infer_(e, env)
        return e.ty

    def infer_(self, e, env):
        if isinstance(e, ast.Int):
            return INT
        if isinstance(e, ast.Str):
            return STRING
        if isinstance(e, ast.Var):
            if e.name in env:
                e.fun = None
                return env[e.name]
            if e.name in self.funs:
                e.fun = self.decls[e.name]
                s = self.funs[e.name]
                return instantiate(s) if isinstance(s, Scheme) else s
            if e.name in BUILTIN_FUNS:
                e.fun = e.name
                t = instantiate(BUILTIN_FUNS[e.name]())
                if e.name in NUMERIC_BUILTINS:
                    self.numeric.append((t.args[0], e))
                return t
            if e.name == "recover":  # Go's recover(): the panic's message, in a deferred fn
                e.fun = "recover"
                return TFn([], TCon("maybe", [STRING]))
            self.error(e, "unknown name", e.name)
        if isinstance(e, ast.Con):
            c = self.cons.get(e.name)
            if c is None:
                self.error(e, "unknown constructor", e.name)
            e.con = c
            if len(e.args) != c.arity:
                self.error(e, f"constructor {c.name} takes {c.arity} argument(s), given "
                           f"{len(e.args)}", e.name)
            inst, ty = self.fresh_instance(c.dtype)
            for a, ft in zip(e.args, c.field_types):
                self.unify(substitute(ft, inst), self.infer(a, env), a, f"an argument of {c.name}")
            return ty if c.dtype.name not in ("int",) else INT
        if isinstance(e, ast.Call):
            fty = self.infer(e.fn, env)
            fty = prune(fty)
            if isinstance(fty, TFn) and len(fty.args) != len(e.args):
                self.error(e, f"this call passes {len(e.args)} argument(s) to a function of "
                           f"{len(fty.args)}", snippet(e.fn))
            if isinstance(fty, TFn):  # argument by argument, for errors at the argument
                for i, (a, pt) in enumerate(zip(e.args, fty.args)):
                    self.unify(pt, self.infer(a, env), a, f"argument {i + 1} of {snippet(e.fn)}")
                return fty.result
            res = TVar()
            args = [self.infer(a, env) for a in e.args]
            self.unify(fty, TFn(args, res), e.fn, "the function called")
            return res
        if isinstance(e, ast.Prim):
            return self.prim(e, env)
        if isinstance(e, ast.Defer):
            c = e.call
            if isinstance(c, ast.Lambda) and c.params:
                self.error(c, "a deferred fn takes no parameters")
            self.infer(c, env)
            return UNIT
        if isinstance(e, ast.Lambda):
            tparams = {}
            args = [self.type_of(p.ty_expr, tparams) if p.ty_expr else TVar() for p in e.params]
            env2 = dict(env)
            for p, t in zip(e.params, args):
                env2[p.name] = t
            e.fn_type = TFn(args, self.infer(e.body, env2))
            return e.fn_type
        if isinstance(e, ast.Let):
            t = self.infer(e.value, env)
            if e.name is None:
                return self.infer(e.body, env)
            return self.infer(e.body, dict(env, **{e.name: t}))
        if isinstance(e, ast.If):
            self.unify(BOOL, self.infer(e.cond, env), e.cond, "the condition")
            t = self.infer(e.then, env)
            self.unify(t, self.infer(e.els, env), e.els, "the `else` branch")
            return t
        if isinstance(e, ast.Match):
            if isinstance(e.scrut, ast.Tuple):  # match (a, b): one column per component
                sts = [self.infer(x, env) for x in e.scrut.items]
            else:
                sts = [self.infer(e.scrut, env)]
            res = TVar()
            for p, body in e.branches:
                benv = dict(env)
                if len(sts) > 1:
                    self.tuple_pattern(p, sts, benv)
                else:
                    self.pattern(p, sts[0], benv)
                self.unify(res, self.infer(body, benv), body, "this branch")
            return res
        if isinstance(e, ast.Tuple):
            self.error(e, "a tuple is only supported as what a match matches, `match (a, b)`",
                       "(...)")
        raise AssertionError(e)

    def tuple_pattern(self, p, sts, env):
        """A branch of a match on a tuple: a tuple pattern of its width, or `_`."""
        if isinstance(p, ast.PVar) and p.name is None:
            return
        if not isinstance(p, ast.PTuple) or len(p.args) != len(sts):
            self.error(p, f"the match is on a tuple of {len(sts)}: each branch needs a tuple "
                       f"pattern of {len(sts)} (or `_`)", snippet_pattern(p))
        for sub, t in zip(p.args, sts):
            self.pattern(sub, t, env)

    @staticmethod
    def fresh_instance(dtype):
        """A data type with fresh variables for its parameters: the substitution of its
        fields' placeholders, and the type."""
        inst = {v: TVar() for v in getattr(dtype, "tvars", [])}
        return inst, TCon(dtype.name, [inst[v] for v in getattr(dtype, "tvars", [])])

    def field_target(self, e, env):
        """The (constructor, field index) pairs `x.f := v` may assign when e, its left side, is
        `x.f` naming a mutable field (and f is no function in scope), else None."""
        if not (isinstance(e, ast.Call) and isinstance(e.fn, ast.Var) and len(e.args) == 1):
            return None
        f = e.fn.name
        if (f in env and isinstance(prune(env[f]), TFn)) or (f not in env and (f in self.funs or f in BUILTIN_FUNS)):
            return None  # x.f(...) calls a function f
        if f not in self.mutable_fields:
            if any(f in c.field_names for c in self.cons.values()):
                self.error(e.fn, "only a field declared `mutable` can be assigned", f)
            return None
        return self.mutable_fields[f]

    def set_field(self, e, env, targets):
        """x.f := v: x is a value of a type with a mutable field f (the one of x's type when
        several types have one: targets), v of f's field type; the result is unit."""
        obj, value = e.args[0].args[0], e.args[1]
        t = prune(self.infer(obj, env))
        if len(targets) > 1:
            mine = [x for x in targets if isinstance(t, TCon) and x[0].dtype.name == t.name]
            if len(mine) != 1:
                self.error(e.args[0].fn, "several types have a mutable field of this name and "
                           "the value's type does not say which (annotate it)", e.args[0].fn.name)
            targets = mine
        c, i = targets[0]
        e.op, e.field = "setfield", (c, i)
        inst, ty = self.fresh_instance(c.dtype)
        self.unify(ty, t, obj, f"the value whose `{c.field_names[i]}` is set")
        self.unify(substitute(c.field_types[i], inst), self.infer(value, env), value,
                   f"the value assigned to `{c.field_names[i]}`")
        e.args[0].ty = UNIT  # the `x.f` node is not an expression of its own
        return UNIT

    def prim(self, e, env):
        op = e.op
        targets = self.field_target(e.args[0], env) if op == ":=" else None
        if targets is not None:
            return self.set_field(e, env, targets)
        args = [self.infer(a, env) for a in e.args]
        if op == "++":
            for a, t in zip(e.args, args):
                self.unify(STRING, t, a, "an operand of `++`")
            return STRING
        if op in ("+", "-", "*", "/", "%", "neg", "<", "<=", ">", ">="):
            self.number(args[0], e.args[0], f"an operand of `{'-' if op == 'neg' else op}`")
            if len(args) > 1:
                self.unify(args[0], args[1], e.args[1], f"the right operand of `{op}`")
            return BOOL if op in ("<", "<=", ">", ">=") else args[0]
        if op in ("==", "!="):
            self.unify(args[0], args[1], e.args[1], f"the right operand of `{op}`")
            t = prune(args[0])
            if isinstance(t, TCon) and t.name == "string":  # compared byte by byte (borrowed)
                e.op = "str" + op
                return BOOL
            if not (isinstance(t, TCon) and t.name in ("int", "int32", "bool")) and \
                    not (isinstance(t, TCon) and t.name in self.types and
                         self.types[t.name].cons and all(c.arity == 0 for c in self.types[t.name].cons)):
                if isinstance(t, TVar):
                    self.unify(INT, t, e.args[0], f"an operand of `{op}`")
                else:
                    self.error(e, f"`{op}` compares integers, booleans, strings and enumerations, not "
                               f"{show(t)}", snippet(e))
            return BOOL
        if op in ("&&", "||"):
            for a, t in zip(e.args, args):
                self.unify(BOOL, t, a, f"an operand of `{op}`")
            return BOOL
        if op == "!":  # boolean not, or a reference's value (Koka's !r)
            t = prune(args[0])
            if isinstance(t, TCon) and t.name == "ref":
                e.op = "deref"
                return t.args[0]
            self.unify(BOOL, args[0], e.args[0], "the operand of `!`")
            return BOOL
        if op == ":=":
            a = TVar()
            self.unify(TCon("ref", [a]), args[0], e.args[0], "the left side of `:=`")
            self.unify(a, args[1], e.args[1], "the value assigned")
            return UNIT
        raise AssertionError(op)

    def number(self, t, node, what):
        """t must be int or int32: checked now if known, else when the program's types are."""
        p = prune(t)
        if isinstance(p, TCon):
            if p.name not in NUMERIC:
                self.unify(INT, p, node, what)  # the type mismatch error
        else:
            self.numeric.append((p, node))

    def default_numbers(self):
        """The numeric type variables nothing decided are int; the rest must be int or int32."""
        for t, node in self.numeric:
            p = prune(t)
            if isinstance(p, TVar):
                self.unify(INT, p, node, "a number")
            elif not (isinstance(p, TCon) and p.name in NUMERIC):
                self.error(node, f"type mismatch: this needs int or int32, not {show(p)}",
                           snippet(node))

    def pattern(self, p, t, env):
        p.ty = t
        if isinstance(p, ast.PVar):
            if p.name is not None:
                env[p.name] = t  # shadowing is allowed
            return
        if isinstance(p, ast.PInt):
            self.number(t, p, "this pattern's value")
            return
        if isinstance(p, ast.PTuple):
            self.error(p, "a tuple pattern matches only a tuple, `match (a, b)`", "(...)")
        c = self.cons.get(p.name)
        if c is None:
            self.error(p, "unknown constructor", p.name)
        p.con = c
        inst = {v: TVar() for v in getattr(c.dtype, "tvars", [])}
        ct = TCon(c.dtype.name, [inst[v] for v in getattr(c.dtype, "tvars", [])])
        self.unify(t, ct, p, f"the value matched by {c.name}")
        if len(p.args) > c.arity:
            self.error(p, f"constructor {c.name} has {c.arity} field(s), the pattern names "
                       f"{len(p.args)}", p.name)
        # as in Koka, fields left out at the end match anything
        p.args = p.args + [ast.PVar(None, p.line, p.col) for _ in range(c.arity - len(p.args))]
        for sub, ft in zip(p.args, c.field_types):
            self.pattern(sub, substitute(ft, inst), env)


def snippet_pattern(p):
    """A short text for a pattern, for error lines."""
    if isinstance(p, ast.PVar):
        return p.name or "_"
    if isinstance(p, ast.PInt):
        return str(p.value)
    if isinstance(p, ast.PCon):
        return p.name + ("(...)" if p.args else "")
    return "(...)"


def snippet(node):
    """A short text for an expression, for error lines."""
    if isinstance(node, ast.Var):
        return node.name
    if isinstance(node, ast.Int):
        return str(node.value)
    if isinstance(node, ast.Con):
        return node.name + ("(...)" if node.args else "")
    if isinstance(node, ast.Call):
        return snippet(node.fn) + "(...)"
    if isinstance(node, ast.Prim):
        return f"... {node.op} ..." if len(node.args) == 2 else node.op + "..."
    if isinstance(node, ast.If):
        return "if ..."
    if isinstance(node, ast.Match):
        return "match ..."
    return ""


def finish(e):
    """Resolve the types recorded on an expression tree."""
    if e is None:
        return
    if isinstance(e, ast.Node) and e.ty is not None:
        e.ty = resolve(e.ty)
    for f in e.fields:
        v = getattr(e, f)
        if isinstance(v, ast.Node):
            finish(v)
        elif isinstance(v, list):
            for x in v:
                if isinstance(x, ast.Node):
                    finish(x)
                elif isinstance(x, tuple):
                    for y in x:
                        if isinstance(y, ast.Node):
                            finish(y)


def check(path, decls):
    return Checker(path).program(decls)
