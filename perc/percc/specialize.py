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


def uses(e, out):
    """Count every read of each variable in e."""
    def atoms(xs):
        for a in xs:
            if a[0] == 'var':
                out[a[1]] = out.get(a[1], 0) + 1
    kind = e[0]
    if kind == 'ret':
        atoms([e[1]])
    elif kind == 'let':
        op = e[2]
        if op[0] in ('call', 'con', 'prim', 'closure'):
            atoms(op[2])
        elif op[0] == 'callv':
            out[op[1]] = out.get(op[1], 0) + 1
            atoms(op[2])
        elif op[0] == 'atom':
            atoms([op[1]])
        elif op[0] == 'defer':
            atoms([op[2]])
        uses(e[3], out)
    elif kind == 'letx':
        uses(e[2], out)
        uses(e[3], out)
    elif kind == 'if':
        atoms([e[1]])
        uses(e[2], out)
        uses(e[3], out)
    elif kind == 'ifint':
        out[e[1]] = out.get(e[1], 0) + 1
        uses(e[3], out)
        uses(e[4], out)
    elif kind == 'switch':
        out[e[1]] = out.get(e[1], 0) + 1
        for _, _, b in e[3]:
            uses(b, out)
        if e[4] is not None:
            uses(e[4], out)
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
            self.funs[name] = (f, params, self.site(body, self.bindings(body, {}), uses(body, {})))
        self.lw.lambdas = [(n, c, p, self.site(b, self.bindings(b, {}), uses(b, {})))
                           for n, c, p, b in self.lw.lambdas]

    # ---- which functions, which parameters ----
    def fixed_params(self, name):
        """The function parameters `name`'s recursive calls all pass on unchanged and its body
        otherwise only calls; empty unless it recurses and may be copied."""
        f, params, body = self.funs[name]
        if name == "main" or name in self.lw.frames or name in self.lw.recovering:
            return set()
        cands = {i for i, v in enumerate(params) if isinstance(prune(self.lw.types[v]), TFn)}
        if not cands:
            return set()
        counts = uses(body, {})
        recursive = [False]

        def walk(e):
            kind = e[0]
            if kind == 'let':
                op = e[2]
                if op[0] == 'call' and op[1] == name:
                    recursive[0] = True
                    for i in list(cands):
                        if op[2][i] != ('var', params[i]):
                            cands.discard(i)
                walk(e[3])
            elif kind == 'letx':
                walk(e[2])
                walk(e[3])
            elif kind in ('if', 'ifint'):
                walk(e[-2])
                walk(e[-1])
            elif kind == 'switch':
                for _, _, b in e[3]:
                    walk(b)
                if e[4] is not None:
                    walk(e[4])
        walk(body)
        if not recursive[0]:
            return set()
        # every read of the parameter is a call of it or its place in a recursive call
        calls = uses_as_callee(body)
        passes = passes_on(body, name)
        return {i for i in cands if counts.get(params[i], 0) == calls.get(params[i], 0) + passes.get(i, 0)}

    def bindings(self, e, out):
        """Variables bound to a closure or a named function's value in e: var -> op."""
        kind = e[0]
        if kind == 'let':
            if e[2][0] in ('closure', 'fnval'):
                out[e[1]] = e[2]
            self.bindings(e[3], out)
        elif kind == 'letx':
            self.bindings(e[2], out)
            self.bindings(e[3], out)
        elif kind in ('if', 'ifint'):
            self.bindings(e[-2], out)
            self.bindings(e[-1], out)
        elif kind == 'switch':
            for _, _, b in e[3]:
                self.bindings(b, out)
            if e[4] is not None:
                self.bindings(e[4], out)
        return out

    def known(self, op):
        """Whether a closure or fnval op may be inlined into a copy."""
        if op[0] == 'fnval':
            return op[1] not in self.lw.recovering
        lam = op[1]
        return lam in self.lambdas and lam not in self.lw.frames and lam not in self.lw.recovers \
            and lam not in self.lw.thunks

    # ---- call sites ----
    def site(self, e, binds, counts):
        """e with each call of a fixed-parameter function given a known fn replaced by a call
        of its copy, and the closures so passed no longer built."""
        gone = set()
        out = self.rewrite(e, binds, counts, gone)
        return self.unbind(out, gone) if gone else out

    def rewrite(self, e, binds, counts, gone):
        kind = e[0]
        if kind == 'let':
            x, op, body = e[1], e[2], e[3]
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
            return ('let', x, op, self.rewrite(body, binds, counts, gone))
        if kind == 'letx':
            return ('letx', e[1], self.rewrite(e[2], binds, counts, gone), self.rewrite(e[3], binds, counts, gone))
        if kind == 'if':
            return ('if', e[1], self.rewrite(e[2], binds, counts, gone), self.rewrite(e[3], binds, counts, gone))
        if kind == 'ifint':
            return ('ifint', e[1], e[2], self.rewrite(e[3], binds, counts, gone),
                    self.rewrite(e[4], binds, counts, gone))
        if kind == 'switch':
            return ('switch', e[1], e[2], [(c, fv, self.rewrite(b, binds, counts, gone)) for c, fv, b in e[3]],
                    self.rewrite(e[4], binds, counts, gone) if e[4] is not None else None)
        return e

    def unbind(self, e, gone):
        """e without the bindings of the closures its calls no longer take."""
        kind = e[0]
        if kind == 'let':
            if e[1] in gone:
                return self.unbind(e[3], gone)
            return ('let', e[1], e[2], self.unbind(e[3], gone))
        if kind == 'letx':
            return ('letx', e[1], self.unbind(e[2], gone), self.unbind(e[3], gone))
        if kind == 'if':
            return ('if', e[1], self.unbind(e[2], gone), self.unbind(e[3], gone))
        if kind == 'ifint':
            return ('ifint', e[1], e[2], self.unbind(e[3], gone), self.unbind(e[4], gone))
        if kind == 'switch':
            return ('switch', e[1], e[2], [(c, fv, self.unbind(b, gone)) for c, fv, b in e[3]],
                    self.unbind(e[4], gone) if e[4] is not None else None)
        return e

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
                kept.append((i, v))
        caps = {}  # the placeholder of a closure parameter -> the copy's parameters for its captures
        extra = []
        for v, op in slots.items():
            if op[0] == 'closure':
                cparams = self.lambdas[op[1]][0]
                caps[v] = [self.lw.fresh(c.rsplit("_", 1)[0], self.lw.types[c]) for c in cparams]
                extra += caps[v]
        new_params = [v for _, v in kept] + extra
        copied = self.rename(body, ren)
        copied = self.inside(copied, name, new, params, known, ren, slots, caps)
        decl = ast.FunDecl(new, [ast.Param(v, None, False, f.line, f.col) for v in new_params], None, None,
                           f.line, f.col)
        decl.fn_type = TFn([self.lw.types[v] for v in new_params], f.fn_type.result)
        self.funs[new] = (decl, new_params, copied)
        self.fixed[new] = set()
        return new

    def inside(self, e, name, new, params, known, ren, slots, caps):
        """In the copy: recursive calls call it, calls of a replaced parameter are the fn."""
        kind = e[0]
        rec = lambda b: self.inside(b, name, new, params, known, ren, slots, caps)
        if kind == 'let':
            x, op, body = e[1], e[2], e[3]
            if op[0] == 'call' and op[1] == name:
                args = [a for i, a in enumerate(op[2]) if i not in known]
                for v in slots:
                    args += [('var', c) for c in caps.get(v, [])]
                return ('let', x, ('call', new, args), rec(body))
            if op[0] == 'callv' and op[1] in slots:
                fop = slots[op[1]]
                if fop[0] == 'fnval':
                    return ('let', x, ('call', fop[1], op[2]), rec(body))
                cparams, lparams, lbody = self.lambdas[fop[1]]
                inst = self.instantiate(list(cparams) + list(lparams), lbody,
                                        [('var', c) for c in caps[op[1]]] + list(op[2]))
                if body == ('ret', ('var', x)):
                    return inst
                return ('letx', x, inst, rec(body))
            return ('let', x, op, rec(body))
        if kind == 'letx':
            return ('letx', e[1], rec(e[2]), rec(e[3]))
        if kind == 'if':
            return ('if', e[1], rec(e[2]), rec(e[3]))
        if kind == 'ifint':
            return ('ifint', e[1], e[2], rec(e[3]), rec(e[4]))
        if kind == 'switch':
            return ('switch', e[1], e[2], [(c, fv, rec(b)) for c, fv, b in e[3]],
                    rec(e[4]) if e[4] is not None else None)
        return e


def uses_as_callee(e, out=None):
    """How often each variable is the function of an indirect call in e."""
    out = {} if out is None else out
    kind = e[0]
    if kind == 'let':
        if e[2][0] == 'callv':
            out[e[2][1]] = out.get(e[2][1], 0) + 1
        uses_as_callee(e[3], out)
    elif kind == 'letx':
        uses_as_callee(e[2], out)
        uses_as_callee(e[3], out)
    elif kind in ('if', 'ifint'):
        uses_as_callee(e[-2], out)
        uses_as_callee(e[-1], out)
    elif kind == 'switch':
        for _, _, b in e[3]:
            uses_as_callee(b, out)
        if e[4] is not None:
            uses_as_callee(e[4], out)
    return out


def passes_on(e, name, out=None):
    """How often each parameter position is filled by a recursive call of name in e."""
    out = {} if out is None else out
    kind = e[0]
    if kind == 'let':
        if e[2][0] == 'call' and e[2][1] == name:
            for i, _ in enumerate(e[2][2]):
                out[i] = out.get(i, 0) + 1
        passes_on(e[3], name, out)
    elif kind == 'letx':
        passes_on(e[2], name, out)
        passes_on(e[3], name, out)
    elif kind in ('if', 'ifint'):
        passes_on(e[-2], name, out)
        passes_on(e[-1], name, out)
    elif kind == 'switch':
        for _, _, b in e[3]:
            passes_on(b, name, out)
        if e[4] is not None:
            passes_on(e[4], name, out)
    return out
