"""inline.py: inlining small functions into their callers, before Perceus, as Koka's inliner
does, so that a callee's constructors can take the reuse tokens of the caller's dead cells
(rbtree's balance-left builds its nodes in the cell of the node `ins` matched).

A call is inlined when the callee is not recursive (no cycle through it in the call graph) and
its IR is small: at most TAIL_LIMIT nodes for a call in tail position (its value is the
caller's), at most SMALL_LIMIT elsewhere (the inlined body then joins into the variable).
Each copy is alpha-renamed: every variable it binds gets a fresh name (with its type).
"""

TAIL_LIMIT = 160
SMALL_LIMIT = 24


def size(e):
    kind = e[0]
    if kind == 'ret':
        return 1
    if kind in ('let',):
        return 1 + size(e[3])
    if kind == 'letx':
        return 1 + size(e[2]) + size(e[3])
    if kind == 'if':
        return 1 + size(e[2]) + size(e[3])
    if kind == 'ifint':
        return 1 + size(e[3]) + size(e[4])
    if kind == 'switch':
        return 1 + sum(size(b) for _, _, b in e[3]) + (size(e[4]) if e[4] is not None else 0)
    return 1


def calls(e, out):
    kind = e[0]
    if kind == 'let':
        if e[2][0] == 'call':
            out.add(e[2][1])
        calls(e[3], out)
    elif kind == 'letx':
        calls(e[2], out)
        calls(e[3], out)
    elif kind == 'if':
        calls(e[2], out)
        calls(e[3], out)
    elif kind == 'ifint':
        calls(e[3], out)
        calls(e[4], out)
    elif kind == 'switch':
        for _, _, b in e[3]:
            calls(b, out)
        if e[4] is not None:
            calls(e[4], out)
    return out


class Renamer:
    """Copies of IR with fresh names for every variable they bind (specialize.py uses it too)."""

    def __init__(self, lowering):
        self.lw = lowering

    def instantiate(self, params, body, args):
        """The callee's body with its parameters bound to the arguments and every variable it
        binds renamed."""
        ren = {}
        pre = []
        for p, a in zip(params, args):
            if a[0] == 'var':
                ren[p] = a[1]
            else:  # a literal argument: bound, since the body may match on the parameter
                v = self.lw.fresh("arg", self.lw.types[p])
                ren[p] = v
                pre.append((v, a))
        out = self.rename(body, ren)
        for v, a in reversed(pre):
            out = ('let', v, ('atom', a), out)
        return out

    def fresh(self, v, ren):
        n = self.lw.fresh(v.rsplit("_", 1)[0], self.lw.types[v])
        ren[v] = n
        return n

    def atom(self, a, ren):
        return ('var', ren.get(a[1], a[1])) if a[0] == 'var' else a

    def op(self, o, ren):
        kind = o[0]
        if kind in ('call', 'con', 'prim', 'closure'):
            return (kind, o[1], [self.atom(a, ren) for a in o[2]])
        if kind == 'callv':
            return (kind, ren.get(o[1], o[1]), [self.atom(a, ren) for a in o[2]])
        if kind == 'atom':
            return (kind, self.atom(o[1], ren))
        if kind == 'defer':
            return (kind, o[1], self.atom(o[2], ren))
        return o  # fnval, str

    def rename(self, e, ren):
        kind = e[0]
        if kind == 'ret':
            return ('ret', self.atom(e[1], ren))
        if kind == 'let':
            o = self.op(e[2], ren)
            ren = dict(ren)
            return ('let', self.fresh(e[1], ren), o, self.rename(e[3], ren))
        if kind == 'letx':
            inner = self.rename(e[2], ren)
            ren = dict(ren)
            return ('letx', self.fresh(e[1], ren), inner, self.rename(e[3], ren))
        if kind == 'if':
            return ('if', self.atom(e[1], ren), self.rename(e[2], ren), self.rename(e[3], ren))
        if kind == 'ifint':
            return ('ifint', ren.get(e[1], e[1]), e[2], self.rename(e[3], ren), self.rename(e[4], ren))
        if kind == 'switch':
            cases = []
            for c, fvars, b in e[3]:
                r2 = dict(ren)
                nf = [self.fresh(v, r2) for v in fvars]
                cases.append((c, nf, self.rename(b, r2)))
            return ('switch', ren.get(e[1], e[1]), e[2], cases,
                    self.rename(e[4], ren) if e[4] is not None else None)
        return e


class Inliner(Renamer):
    def __init__(self, lowering, funs, frames):
        super().__init__(lowering)
        self.funs, self.frames = funs, frames
        graph = {n: calls(b, set()) for n, (_, _, b) in funs.items()}
        for name, cparams, params, body in lowering.lambdas:
            graph[name] = calls(body, set())
        self.recursive = {n for n in graph if self.reaches(graph, n, n)}

    @staticmethod
    def reaches(graph, start, goal):
        seen, todo = set(), list(graph.get(start, ()))
        while todo:
            n = todo.pop()
            if n == goal:
                return True
            if n in seen or n not in graph:
                continue
            seen.add(n)
            todo.extend(graph[n])
        return False

    def candidate(self, name, limit):
        if name not in self.funs or name in self.recursive or name in self.frames or name == "main" \
                or name in self.lw.recovering:  # its recover token is its own
            return None
        f, params, body = self.funs[name]
        return (params, body) if size(body) <= limit else None

    def run(self):
        for name in list(self.funs):
            f, params, body = self.funs[name]
            self.funs[name] = (f, params, self.expr(body))
        self.lw.lambdas = [(n, c, p, self.expr(b)) for n, c, p, b in self.lw.lambdas]

    def expr(self, e):
        kind = e[0]
        if kind == 'let':
            x, op, body = e[1], e[2], e[3]
            if op[0] == 'call':
                tail = body == ('ret', ('var', x))
                cand = self.candidate(op[1], TAIL_LIMIT if tail else SMALL_LIMIT)
                if cand is not None:
                    params, cbody = cand
                    copy = self.instantiate(params, cbody, op[2])
                    copy = self.expr(copy)
                    if tail:
                        return copy
                    return ('letx', x, copy, self.expr(body))
            return ('let', x, op, self.expr(body))
        if kind == 'letx':
            return ('letx', e[1], self.expr(e[2]), self.expr(e[3]))
        if kind == 'if':
            return ('if', e[1], self.expr(e[2]), self.expr(e[3]))
        if kind == 'ifint':
            return ('ifint', e[1], e[2], self.expr(e[3]), self.expr(e[4]))
        if kind == 'switch':
            return ('switch', e[1], e[2], [(c, fv, self.expr(b)) for c, fv, b in e[3]],
                    self.expr(e[4]) if e[4] is not None else None)
        return e
