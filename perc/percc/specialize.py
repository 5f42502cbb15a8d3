"""specialize.py: Koka's specialisation of recursive higher-order functions, before inlining.

A recursive function whose function parameter every recursive call passes on unchanged (and
which the body otherwise only calls) is copied for each call that gives it a known function: a
fn(...) bound just for that call, or a named function. In the copy the parameter is gone, each
call of it is the fn's body inlined (or a direct call of the named function), the fn's captured
values are extra parameters, and the recursive calls call the copy. So
`t.fold(0) fn(k, v, r) if v then r + 1 else r` builds no closure and makes no indirect call
per node: the fold is the loop a hand-written count would be (rbtree-ck's check).

Not specialised: functions with defers or a recover token (their frames are their own), fns
with defers or that recover, and a fn value used more than once (it exists anyway).
"""
from . import ast
from .check import TFn, prune
from .inline import Renamer


def children(e):
    """The expressions directly inside e (its branches and bodies)."""
    kind = e[0]
    if kind == 'let':
        return [e[3]]
    if kind == 'letx':
        return [e[2], e[3]]
    if kind in ('if', 'ifint'):
        return [e[-2], e[-1]]
    if kind == 'switch':
        return [b for _, _, b in e[3]] + ([e[4]] if e[4] is not None else [])
    return []


def lets(e):
    """Every `let` in e, outermost first."""
    if e[0] == 'let':
        yield e
    for c in children(e):
        yield from lets(c)


def map_lets(e, f):
    """e with each `let` x = op; body replaced by f(x, op, body'), body' already mapped."""
    kind = e[0]
    if kind == 'let':
        return f(e[1], e[2], map_lets(e[3], f))
    if kind == 'letx':
        return ('letx', e[1], map_lets(e[2], f), map_lets(e[3], f))
    if kind == 'if':
        return ('if', e[1], map_lets(e[2], f), map_lets(e[3], f))
    if kind == 'ifint':
        return ('ifint', e[1], e[2], map_lets(e[3], f), map_lets(e[4], f))
    if kind == 'switch':
        return ('switch', e[1], e[2], [(c, fv, map_lets(b, f)) for c, fv, b in e[3]],
                map_lets(e[4], f) if e[4] is not None else None)
    return e


def uses(e):
    """How often each variable is read in e."""
    out = {}

    def read(a):
        if a[0] == 'var':
            out[a[1]] = out.get(a[1], 0) + 1

    def walk(e):
        kind = e[0]
        if kind in ('ret', 'if'):
            read(e[1])
        elif kind in ('ifint', 'switch'):
            read(('var', e[1]))
        elif kind == 'let':
            op = e[2]
            if op[0] in ('call', 'con', 'prim', 'closure', 'callv'):
                for a in op[2]:
                    read(a)
            if op[0] == 'callv':
                read(('var', op[1]))
            elif op[0] == 'atom':
                read(op[1])
            elif op[0] == 'defer':
                read(op[2])
        for c in children(e):
            walk(c)
    walk(e)
    return out


class Specializer(Renamer):
    def __init__(self, lowering, funs):
        super().__init__(lowering)
        self.funs = funs
        self.lambdas = {n: (c, p, b) for n, c, p, b in lowering.lambdas}
        self.made = 0

    def run(self):
        self.fixed = {name: self.fixed_params(name) for name in self.funs}
        for name in list(self.funs):
            f, params, body = self.funs[name]
            self.funs[name] = (f, params, self.site(body))
        self.lw.lambdas = [(n, c, p, self.site(b)) for n, c, p, b in self.lw.lambdas]

    # ---- which functions, which parameters ----
    def fixed_params(self, name):
        """The function parameters `name`'s recursive calls all pass on unchanged and its body
        otherwise only calls; empty unless it recurses and may be copied."""
        f, params, body = self.funs[name]
        if name == "main" or name in self.lw.frames or name in self.lw.recovering:
            return set()
        cands = {i for i, v in enumerate(params) if isinstance(prune(self.lw.types[v]), TFn)}
        recursive = [op for _, _, op, _ in lets(body) if op[0] == 'call' and op[1] == name]
        if not cands or not recursive:
            return set()
        cands = {i for i in cands if all(op[2][i] == ('var', params[i]) for op in recursive)}
        called = {}
        for _, _, op, _ in lets(body):
            if op[0] == 'callv':
                called[op[1]] = called.get(op[1], 0) + 1
        # every read of the parameter is a call of it or its place in a recursive call
        counts = uses(body)
        return {i for i in cands if counts.get(params[i], 0) == called.get(params[i], 0) + len(recursive)}

    def known(self, op):
        """Whether a closure or fnval op may be inlined into a copy."""
        if op[0] == 'fnval':
            return op[1] not in self.lw.recovering
        lam = op[1]
        return lam in self.lambdas and lam not in self.lw.frames and lam not in self.lw.recovers \
            and lam not in self.lw.thunks

    # ---- call sites ----
    def site(self, e):
        """e with each call of a fixed-parameter function given a known fn replaced by a call
        of its copy, and the closures so passed no longer built."""
        binds = {x: op for _, x, op, _ in lets(e) if op[0] in ('closure', 'fnval')}
        counts = uses(e)
        gone = set()

        def call(x, op, body):
            if op[0] == 'call' and self.fixed.get(op[1]):
                known = {i: binds[a[1]] for i, a in enumerate(op[2]) if i in self.fixed[op[1]] and
                         a[0] == 'var' and a[1] in binds and counts.get(a[1]) == 1 and
                         self.known(binds[a[1]])}
                if known:
                    name = self.copy(op[1], known)
                    args = [a for i, a in enumerate(op[2]) if i not in known]
                    for i in sorted(known):
                        if known[i][0] == 'closure':
                            args += known[i][2]
                        gone.add(op[2][i][1])
                    op = ('call', name, args)
            return ('let', x, op, body)
        out = map_lets(e, call)
        if not gone:
            return out
        return map_lets(out, lambda x, op, body: body if x in gone else ('let', x, op, body))

    # ---- the copy ----
    def copy(self, name, known):
        """A copy of `name` with the parameters in `known` (index -> closure or fnval op)
        replaced by what they are; returns the copy's name."""
        f, params, body = self.funs[name]
        self.made += 1
        new = f"{name}'spec{self.made}"
        ren, slots = {}, {}
        kept = []
        for i, p in enumerate(params):
            v = self.fresh(p, ren)
            if i in known:
                slots[v] = known[i]
            else:
                kept.append(v)
        caps = {}  # the placeholder of a closure parameter -> the copy's parameters for its captures
        for v, op in slots.items():
            if op[0] == 'closure':
                caps[v] = [self.lw.fresh(c.rsplit("_", 1)[0], self.lw.types[c]) for c in self.lambdas[op[1]][0]]
        new_params = kept + [c for v in slots for c in caps.get(v, [])]

        def inside(x, op, body):
            """Recursive calls call the copy; calls of a replaced parameter are the fn."""
            if op[0] == 'call' and op[1] == name:
                args = [a for i, a in enumerate(op[2]) if i not in known]
                args += [('var', c) for v in slots for c in caps.get(v, [])]
                return ('let', x, ('call', new, args), body)
            if op[0] == 'callv' and op[1] in slots:
                fop = slots[op[1]]
                if fop[0] == 'fnval':
                    return ('let', x, ('call', fop[1], op[2]), body)
                cparams, lparams, lbody = self.lambdas[fop[1]]
                inst = self.instantiate(list(cparams) + list(lparams), lbody,
                                        [('var', c) for c in caps[op[1]]] + list(op[2]))
                return inst if body == ('ret', ('var', x)) else ('letx', x, inst, body)
            return ('let', x, op, body)
        copied = map_lets(self.rename(body, ren), inside)
        decl = ast.FunDecl(new, [ast.Param(v, None, False, f.line, f.col) for v in new_params], None, None,
                           f.line, f.col)
        decl.fn_type = TFn([self.lw.types[v] for v in new_params], f.fn_type.result)
        self.funs[new] = (decl, new_params, copied)
        self.fixed[new] = set()
        return new
