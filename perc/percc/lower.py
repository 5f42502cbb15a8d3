"""lower.py: from the typed AST to Perc's intermediate form (A-normal form), where Perceus runs.

The intermediate form (IR), as tuples:

  expression
    ('ret', atom)                          the value of the expression
    ('let', x, op, body)                   x = op; body
    ('letx', x, expression, body)          x = the value of a nested expression (a join)
    ('if', atom, then, else)               atom is a boolean
    ('switch', x, type, cases, default)    on x's constructor: cases [(Constructor, [field
                                           vars], body)], default a body or None
    ('ifint', x, n, then, else)            x == n (an integer pattern)
    ('fail', message, line)                a match no branch covers cannot happen (checked)
  op
    ('call', name, [atoms]), ('con', Constructor, [atoms]), ('prim', op, [atoms]),
    ('atom', atom)
  atom
    ('var', name) | ('int', n) | ('scalar', n)    ('scalar', n): a nullary constructor

Variables are unique names; every IR variable has a type (Lowering.types), from which emit.py
knows whether it may hold a reference (`heap`). Nested patterns compile to nested switches
(a clause matrix, first column with a constructor first); a match that misses a constructor is
a compile error naming it.
"""
from . import ast
from .check import BOOL, UNIT as UNIT_T, TCon, TFn, TVar, prune
from .errors import CompileError


def ret(a):
    """The continuation of a function's (or a join's) value: return it. Tail position is
    `k is ret`."""
    return ('ret', a)


# Built-ins lowered to arithmetic: name -> (operator, second operand or None).
NUMBER_BUILTINS = {"inc": ("+", 1), "dec": ("-", 1), "is-zero": ("==", 0), "int32": ("int32", None),
                   "int": ("int", None)}

class Lowering:
    def __init__(self, path, checker):
        self.path, self.checker = path, checker
        self.types = {}   # IR variable -> type
        self.n = 0
        self.lambdas = []  # (name, captured IR params, IR params, body) of each fn(...)
        self.recovers = set()  # lambdas whose body calls recover() (they take a recover token)
        # named functions whose own body calls recover(): a hidden token parameter, filled by
        # the thunk of `defer f(args)` and HRC_NO_RECOVER by every other call
        self.recovering = {d.name for d in checker.decls.values() if calls_recover(d.body)}
        self.thunks = {}  # `defer f(args)` thunk -> ('call', f) or ('forward', closure variable)
        self.lambda_results = {}  # fn with defers -> its result type (a recovered panic's zero)
        self.frames = {}  # function -> (its defer statements, whether a deferred fn recovers)
        self.defers = None  # [count, recovers] of the function being lowered
        self.fnvals = set()  # top-level functions used as values (they get a closure wrapper)

    def fresh(self, base, ty):
        self.n += 1
        name = f"{base.replace('-', '_').replace(chr(39), '_')}_{self.n}"
        self.types[name] = ty
        return name

    def error(self, node, msg, text=""):
        raise CompileError(self.path, node.line, node.col, msg, text)

    # ---- functions ----
    def function(self, f):
        self.defers = [0, False]
        params, body = self.function_(f)
        if self.defers[0]:
            self.frames[f.name] = tuple(self.defers)
        return params, body

    def function_(self, f):
        env = {}
        params = []
        for p, t in zip(f.params, f.fn_type.args):
            v = self.fresh(p.name, prune(t))
            env[p.name] = v
            params.append(v)
        body = self.expr(f.body, env, ret)
        return params, body

    # ---- expressions, in continuation-passing style: k turns the value's atom into the rest ----
    def expr(self, e, env, k):
        if isinstance(e, ast.Int):
            return k(('int', e.value))
        if isinstance(e, ast.Str):
            return self.bind(('str', e.value), e.ty, "s", k)
        if isinstance(e, ast.Var):
            if e.name in env:
                return k(('var', env[e.name]))
            if isinstance(e.fun, str):
                self.error(e, "a built-in function used as a value", e.name)
            self.fnvals.add(e.name)
            return self.bind(('fnval', e.name), e.ty, "f", k)
        if isinstance(e, ast.Lambda):
            return self.lambda_(e, env, k)
        if isinstance(e, ast.Defer):
            return self.defer(e, env, k)
        if isinstance(e, ast.Con):
            c = e.con
            if c.arity == 0:
                return k(('scalar', c.index))
            return self.atoms(e.args, env, lambda xs: self.bind(('con', c, xs), e.ty, c.name, k))
        if isinstance(e, ast.Call):
            if not isinstance(e.fn, ast.Var) or e.fn.name in env:  # a function value: a closure
                return self.expr(e.fn, env, lambda f: self.atoms(
                    e.args, env, lambda xs: self.bind(('callv', f[1], xs), e.ty, "r", k)))
            name = e.fn.name
            if name == "recover" and isinstance(e.fn.fun, str):  # Go: nil unless deferred
                self.recovers_here = True
            if name == "int32" and isinstance(e.fn.fun, str) and isinstance(e.args[0], ast.Int):
                return k(('int32', (e.args[0].value + 2**31) % 2**32 - 2**31))  # `10.int32`: a literal
            if name in NUMBER_BUILTINS and isinstance(e.fn.fun, str):  # inline arithmetic
                op, arg = NUMBER_BUILTINS[name]
                t = prune(e.args[0].ty)
                lit = 'int'
                if name in ("inc", "dec", "is-zero") and isinstance(t, TCon) and t.name == "int32":
                    op, lit = (op + "32" if op != "==" else op), 'int32'
                return self.atoms(e.args, env, lambda xs: self.bind(
                    ('prim', op, xs + ([(lit, arg)] if arg is not None else [])), e.ty, "p", k))
            if name in ("println", "print") and isinstance(e.fn.fun, str):
                t = prune(e.args[0].ty)
                if not (isinstance(t, TCon) and t.name in ("int", "int32", "bool", "unit", "string")):
                    self.error(e.args[0], "println prints integers, booleans and strings",
                               getattr(e.args[0], "name", ""))
            if name == "show" and isinstance(e.fn.fun, str):
                t = prune(e.args[0].ty)
                if not (isinstance(t, TCon) and t.name in ("int", "int32", "bool")):
                    self.error(e.args[0], "show makes strings of integers and booleans",
                               getattr(e.args[0], "name", ""))
            if isinstance(e.fn.fun, str):  # a built-in
                name = "%" + name
            return self.atoms(e.args, env, lambda xs: self.bind(('call', name, xs), e.ty, "r", k))
        if isinstance(e, ast.Prim):
            if e.op in ("&&", "||"):  # short-circuit: an if
                a, b = e.args
                f = ast.Con("False", [], e.line, e.col)
                t = ast.Con("True", [], e.line, e.col)
                for c in (f, t):
                    c.con, c.ty = self.checker.cons[c.name], BOOL
                cond = ast.If(a, b, f, e.line, e.col) if e.op == "&&" else ast.If(a, t, b, e.line, e.col)
                cond.ty = BOOL
                return self.expr(cond, env, k)
            if e.op == "++":  # a built-in call: borrows both strings
                return self.atoms(e.args, env, lambda xs: self.bind(('call', '%concat', xs), e.ty, "s", k))
            if e.op == "setfield":  # x.f := v: x borrowed, v moved into the field
                c, i = e.field
                return self.atoms([e.args[0].args[0], e.args[1]], env,
                                  lambda xs: self.bind(('prim', ('setfield', c, i), xs), e.ty, "u", k))
            if e.op in ("str==", "str!="):  # so does string comparison
                name = '%str-eq' if e.op == "str==" else '%str-ne'
                return self.atoms(e.args, env, lambda xs: self.bind(('call', name, xs), e.ty, "p", k))
            op = e.op
            t = prune(e.args[0].ty)
            if op in ("+", "-", "*", "/", "%", "neg") and isinstance(t, TCon) and t.name == "int32":
                op += "32"  # wraps around, as Koka's int32
            return self.atoms(e.args, env, lambda xs: self.bind(('prim', op, xs), e.ty, "p", k))
        if isinstance(e, ast.Let):
            if e.name is None:
                return self.expr(e.value, env, lambda a: self.discard(a, lambda: self.expr(e.body, env, k)))
            return self.expr(e.value, env, lambda a: self.let_atom(e.name, a, e.value.ty, env, e.body, k))
        if isinstance(e, ast.If) or isinstance(e, ast.Match):
            return self.join(e, env, k)
        raise AssertionError(e)

    def defer(self, e, env, k):
        """Go's defer: the deferred call is a closure taking no arguments, made now (so the
        arguments of `defer f(args)` are evaluated now, as Go does) and handed to the frame."""
        if self.defers is None:
            self.error(e, "defer works in a function's or a fn's body", "defer")
        i = self.defers[0]
        self.defers[0] += 1
        c = e.call
        if isinstance(c, ast.Lambda):
            return self.lambda_(c, env, lambda a: ('let', self.fresh("d", UNIT_T), ('defer', i, a), k(('int', 0))),
                                deferred=True)
        # defer f(args): the function value (if not a top-level function) and the arguments now
        fn_local = not isinstance(c.fn, ast.Var) or c.fn.name in env
        parts = ([c.fn] if fn_local else []) + list(c.args)

        def made(atoms):
            captured = [a for a in atoms if a[0] == 'var']
            inner = {}
            cparams = []
            for a in captured:
                if a[1] not in inner:
                    v = self.fresh("arg", self.types[a[1]])
                    inner[a[1]] = v
                    cparams.append(v)
            remap = [('var', inner[a[1]]) if a[0] == 'var' else a for a in atoms]
            r = self.fresh("r", prune(c.ty))
            self.n += 1
            name = f"lambda_{self.n}"
            if fn_local:
                op = ('callv', remap[0][1], remap[1:])
                if remap[0][0] == 'var':  # Go: the deferred closure value may recover
                    self.thunks[name] = ('forward', remap[0][1])
                    self.defers[1] = self.defers[1] or "maybe"
            else:
                op = ('call', ("%" if isinstance(c.fn.fun, str) else "") + c.fn.name, remap)
                if c.fn.name in self.recovering and not isinstance(c.fn.fun, str):
                    self.thunks[name] = ('call', c.fn.name)  # it takes the token, f gets it
                    self.recovers.add(name)
                    self.defers[1] = True
            self.lambdas.append((name, cparams, [], ('let', r, op, ('ret', ('var', r)))))
            ordered = []
            for a in captured:
                if a not in ordered:
                    ordered.append(a)
            fv = self.fresh("fn", TFn([], prune(c.ty)))
            return ('let', fv, ('closure', name, ordered),
                    ('let', self.fresh("d", UNIT_T), ('defer', i, ('var', fv)), k(('int', 0))))
        return self.atoms(parts, env, made)

    def lambda_(self, e, env, k, deferred=False):
        """Closure conversion: fn(params) body becomes a function of the captured variables and
        its parameters; here, a closure holding the captured values."""
        captured = [n for n in free_names(e.body, {p.name for p in e.params}) if n in env]
        self.n += 1
        name = f"lambda_{self.n}"
        inner = {}
        cparams = []
        for n in captured:
            v = self.fresh(n, self.types[env[n]])
            inner[n] = v
            cparams.append(v)
        params = []
        for p, t in zip(e.params, e.fn_type.args):
            v = self.fresh(p.name, prune(t))
            inner[p.name] = v
            params.append(v)
        saved = (getattr(self, "recovers_here", False), self.defers)
        self.recovers_here = False
        self.defers = [0, False]  # the fn's own defers: a frame of its own
        body = self.expr(e.body, inner, ret)
        if self.defers[0]:
            self.frames[name] = tuple(self.defers)
            self.lambda_results[name] = (prune(e.fn_type.result), e)
        recovers = self.recovers_here
        self.recovers_here, self.defers = saved
        if recovers:
            self.recovers.add(name)
            if deferred:
                self.defers[1] = True
        self.lambdas.append((name, cparams, params, body))
        return self.bind(('closure', name, [('var', env[n]) for n in captured]), e.ty, "fn", k)

    def discard(self, atom, rest):
        """A value computed for its effect: bound to a variable nobody reads (emit.py drops it)."""
        if atom[0] != 'var':
            return rest()
        return ('let', self.fresh("unused", self.types[atom[1]]), ('atom', atom), rest())

    def let_atom(self, name, atom, ty, env, body, k):
        env2 = dict(env)
        if atom[0] == 'var':
            env2[name] = atom[1]
            return self.expr(body, env2, k)
        v = self.fresh(name, prune(ty))
        env2[name] = v
        return ('let', v, ('atom', atom), self.expr(body, env2, k))

    def bind(self, op, ty, base, k):
        v = self.fresh(base, prune(ty))
        return ('let', v, op, k(('var', v)))

    def atoms(self, es, env, k, done=None):
        done = [] if done is None else done
        if len(done) == len(es):
            return k(list(done))
        return self.expr(es[len(done)], env, lambda a: self.atoms(es, env, k, done + [a]))

    def join(self, e, env, k):
        """A conditional: in tail position (k returns its atom) it is lowered in place; else its
        value is joined into a variable."""
        if k is ret:  # the function's value: each branch returns its own
            return self.control(e, env, k)
        v = self.fresh("j", prune(e.ty))
        inner = self.control(e, env, ret)
        return ('letx', v, inner, k(('var', v)))

    def control(self, e, env, k):
        if isinstance(e, ast.If):
            return self.expr(e.cond, env, lambda c: ('if', c, self.expr(e.then, env, k),
                                                     self.expr(e.els, env, k)))
        if isinstance(e.scrut, ast.Tuple):
            return self.atoms(e.scrut.items, env, lambda xs: self.match_tuple(e, xs, env, k))
        return self.expr(e.scrut, env, lambda s: self.match(e, s, env, k))

    # ---- pattern matching ----
    def match(self, e, scrut, env, k):
        st = prune(e.scrut.ty)
        if scrut[0] != 'var':  # a literal scrutinee: bind it
            v = self.fresh("s", st)
            return ('let', v, ('atom', scrut), self.match(e, ('var', v), env, k))
        rows = [([p], {}, body) for p, body in e.branches]
        return self.compile(rows, [scrut[1]], env, k, e)

    def match_tuple(self, e, items, env, k, cols=()):
        """match (a, b, ...): no tuple is built; each component is a column of the clause
        matrix (a literal one bound to a variable first)."""
        if len(cols) < len(items):
            a = items[len(cols)]
            if a[0] == 'var':
                return self.match_tuple(e, items, env, k, cols + (a[1],))
            v = self.fresh("s", prune(e.scrut.items[len(cols)].ty))
            return ('let', v, ('atom', a), self.match_tuple(e, items, env, k, cols + (v,)))
        n = len(items)
        rows = [(list(p.args) if isinstance(p, ast.PTuple) else [ast.PVar(None, p.line, p.col)] * n,
                 {}, body) for p, body in e.branches]
        return self.compile(rows, list(cols), env, k, e)

    def compile(self, rows, cols, env, k, node):
        """Clause-matrix compilation: rows of (patterns per column, bindings, body)."""
        if not rows:
            self.error(node, "this match does not cover every value", self.missing)
        pats, binds, body = rows[0]
        col = next((i for i, p in enumerate(pats) if not isinstance(p, ast.PVar)), None)
        if col is None:  # the first row matches: bind its variables and go
            env2 = dict(env)
            env2.update(binds)
            for p, v in zip(pats, cols):
                if p.name is not None:
                    env2[p.name] = v
            return self.expr(body, env2, k)
        x = cols[col]
        p0 = pats[col]
        if isinstance(p0, ast.PInt):
            n = p0.value
            yes, no = [], []
            for ps, b, body_ in rows:
                p = ps[col]
                if isinstance(p, ast.PInt):
                    if p.value == n:
                        yes.append((ps, b, body_))
                    else:
                        no.append((ps, b, body_))
                else:
                    yes.append((ps, self.bound(b, p, x), body_))
                    no.append((ps, b, body_))
            yes = [(ps[:col] + [ast.PVar(None, 0, 0)] + ps[col + 1:], b, bd) for ps, b, bd in yes]
            self.missing = "an integer"
            return ('ifint', x, n, self.compile(yes, cols, env, k, node),
                    self.compile(no, cols, env, k, node))
        dtype = p0.con.dtype
        cases = []
        mentioned = [c for c in dtype.cons if any(isinstance(r[0][col], ast.PCon) and r[0][col].con is c
                                                   for r in rows)]
        for c in mentioned:
            fty = self.field_types(c, prune(self.types[x]))
            fvars = [self.fresh(c.field_names[i] or f"{c.name.lower()}{i}", fty[i])
                     for i in range(c.arity)]
            sub = []
            for ps, b, body_ in rows:
                p = ps[col]
                if isinstance(p, ast.PCon):
                    if p.con is not c:
                        continue
                    args = p.args if p.args else [ast.PVar(None, p.line, p.col)] * c.arity
                    sub.append((ps[:col] + [ast.PVar(None, 0, 0)] + ps[col + 1:] + list(args), b, body_))
                else:
                    sub.append((ps[:col] + [ast.PVar(None, 0, 0)] + ps[col + 1:] +
                                [ast.PVar(None, 0, 0)] * c.arity, self.bound(b, p, x), body_))
            self.missing = c.name
            cases.append((c, fvars, self.compile(sub, cols + fvars, env, k, node)))
        default = None
        if len(mentioned) < len(dtype.cons):
            rest = [(ps, self.bound(b, ps[col], x), body_) for ps, b, body_ in rows
                    if isinstance(ps[col], ast.PVar)]
            self.missing = next(c.name for c in dtype.cons if c not in mentioned)
            default = self.compile([(ps[:col] + [ast.PVar(None, 0, 0)] + ps[col + 1:], b, bd)
                                    for ps, b, bd in rest], cols, env, k, node)
        return ('switch', x, dtype, cases, default)

    @staticmethod
    def bound(binds, p, x):
        if isinstance(p, ast.PVar) and p.name is not None:
            return dict(binds, **{p.name: x})
        return binds

    def field_types(self, c, t):
        """The field types of constructor c at the type t of the matched value."""
        from .check import substitute
        tvars = getattr(c.dtype, "tvars", [])
        mapping = dict(zip(tvars, t.args)) if isinstance(t, TCon) else {}
        return [prune(substitute(ft, mapping)) for ft in c.field_types]


def calls_recover(e):
    """Whether an expression calls recover() itself (not inside a fn of its own)."""
    if isinstance(e, ast.Lambda):
        return False
    if isinstance(e, ast.Call) and isinstance(e.fn, ast.Var) and e.fn.name == "recover" and \
            isinstance(getattr(e.fn, "fun", None), str):
        return True
    if isinstance(e, ast.Node):
        for f in e.fields:
            v = getattr(e, f)
            for x in (v if isinstance(v, list) else [v]):
                for y in (x if isinstance(x, tuple) else (x,)):
                    if isinstance(y, ast.Node) and calls_recover(y):
                        return True
    return False


def free_names(e, bound):
    """The local names an expression uses that it does not bind itself."""
    out = []

    def walk(e, bound):
        if isinstance(e, ast.Var):
            if e.name not in bound and e.name not in out:
                out.append(e.name)
        elif isinstance(e, ast.Lambda):
            walk(e.body, bound | {p.name for p in e.params})
        elif isinstance(e, ast.Let):
            walk(e.value, bound)
            walk(e.body, bound | ({e.name} if e.name else set()))
        elif isinstance(e, ast.Match):
            walk(e.scrut, bound)
            for p, body in e.branches:
                walk(body, bound | pattern_names(p))
        elif isinstance(e, ast.Node):
            for f in e.fields:
                v = getattr(e, f)
                for x in (v if isinstance(v, list) else [v]):
                    if isinstance(x, ast.Node):
                        walk(x, bound)
    walk(e, bound)
    return out


def pattern_names(p):
    if isinstance(p, ast.PVar):
        return {p.name} if p.name else set()
    if isinstance(p, (ast.PCon, ast.PTuple)):
        return set().union(*[pattern_names(a) for a in p.args]) if p.args else set()
    return set()


def may_cycle(t, types=None, seen=None):
    """Whether a value of type t may reach a mutable cell (so a cycle may pass through it):
    references, data types with a mutable field or whose fields may reach one, functions
    (closures capture anything), and types not known here. types: the program's data types
    (the checker's), to look into their fields; seen: the data types being looked into, whose
    own parameters are t's arguments (looked at already)."""
    t = prune(t)
    if isinstance(t, TVar):
        return seen is None
    if not isinstance(t, TCon):
        return True
    if t.name == "ref" or any(may_cycle(a, types, seen) for a in t.args):
        return True
    dt = (types or {}).get(t.name)
    seen = seen or set()
    if dt is None or t.name in seen:
        return False
    seen = seen | {t.name}
    return any(any(c.mutable) or any(may_cycle(ft, types, seen) for ft in c.field_types)
               for c in dt.cons)


def lower_program(path, checker, decls):
    lw = Lowering(path, checker)
    funs = {}
    for d in decls:
        if isinstance(d, ast.FunDecl):
            funs[d.name] = (d, ) + lw.function(d)
    return lw, funs
