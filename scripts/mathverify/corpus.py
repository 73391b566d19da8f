"""Generated (gold, prediction) pairs for diff.py: each notation of issue 21 written two ways that mean the same
(expected 1) and with one change that alters the meaning (expected 0): a number, a sign, a relation, an
interval end, an element's position. The truth comes from the construction; Math-Verify's verdict (parse +
verify, defaults) is recorded beside it as "mv"."""
import random


def _n(r, lo=1, hi=40):
    return r.randint(lo, hi)


def _pairs(r):
    """One (gold, equal prediction, unequal prediction, notation) per template."""
    a, b, c = _n(r), _n(r), _n(r)
    while b == a:
        b = _n(r)
    while c in (a, b):
        c = _n(r)
    lo, hi = sorted((a, b))
    big = r.randint(1000, 999999)
    yield (f"{big}", f"{big:,}", f"{big + 1:,}", "thousands separator ,")
    yield (f"{big}", f"{big:,}".replace(",", "{,}"), f"{big + 10:,}".replace(",", "{,}"), "thousands separator {,}")
    yield (f"{big}", f"{big:,}".replace(",", ",\\!"), f"{big * 10:,}".replace(",", ",\\!"), "thousands separator ,\\!")
    yield (f"\\frac{{{a}}}{{{b}}}", f"\\dfrac{{{a}}}{{{b}}}", f"\\dfrac{{{b}}}{{{a}}}", "dfrac")
    yield (f"\\frac{{{a}}}{{{b}}}", f"\\tfrac{{{a}}}{{{b}}}", f"\\tfrac{{{a + b}}}{{{b}}}", "tfrac")
    yield (f"\\frac{{{a}}}{{{b}}}", f"\\cfrac{{{a}}}{{{b}}}", f"-\\cfrac{{{a}}}{{{b}}}", "cfrac")
    yield (f"-\\frac{{{a}}}{{{b}}}", f"\\frac{{-{a}}}{{{b}}}", f"\\frac{{{a}}}{{{b}}}", "sign of a fraction")
    yield (f"{a}\\sqrt{{2}}", f"\\sqrt{{{2 * a * a}}}", f"\\sqrt{{{2 * a * a + 1}}}", "sqrt")
    yield (f"[{lo}, {hi})", f"[{lo},{hi})", f"[{lo},{hi}]", "interval, closed vs open end")
    yield (f"({lo}, {hi}]", f"\\left({lo}, {hi}\\right]", f"\\left[{lo}, {hi}\\right]", "interval with \\left \\right")
    yield (f"(-\\infty, {a}]", f"(-\\infty,{a}]", f"(-\\infty,{a})", "interval to infinity")
    yield (f"[-{a},0)\\cup(0,{b}]", f"[-{a},0) \\cup (0,{b}]", f"[-{a},0]\\cup[0,{b}]", "union of intervals")
    yield (f"x \\leq {a}", f"{a} \\geq x", f"x \\geq {a}", "inequality written both ways")
    yield (f"x<{a}", f"x < {a}", f"x>{a}", "strict inequality")
    yield (f"-{a}<x<{b + a}", f"-{a} < x < {b + a}", f"{a}<x<{b + a}", "chained inequality")
    yield (f"\\{{{a},{b}\\}}", f"\\{{{b},{a}\\}}", f"\\{{{b},-{a}\\}}", "set order")
    yield (f"({a},{b})", f"({a}, {b})", f"({b},{a})", "tuple order")
    yield (f"({a},{b}),({c},{a})", f"({a}, {b}), ({c}, {a})", f"({a}, {b}), ({a}, {c})", "list of tuples")
    yield (f"{a}\\pm\\sqrt{{{c + 1}}}", f"{a}+\\sqrt{{{c + 1}}}, {a}-\\sqrt{{{c + 1}}}", f"{a}+\\sqrt{{{c + 1}}}",
           "plus-minus as both values")
    yield (f"\\begin{{pmatrix}} {a} & {b} \\\\ {c} & 0 \\end{{pmatrix}}",
           f"\\begin{{bmatrix}} {a} & {b} \\\\ {c} & 0 \\end{{bmatrix}}",
           f"\\begin{{pmatrix}} {a} & {c} \\\\ {b} & 0 \\end{{pmatrix}}" if b != c else
           f"\\begin{{pmatrix}} {a} & {b} \\\\ {c} & 1 \\end{{pmatrix}}", "matrix")
    yield (f"{a}\\%", f"{a} percent", f"{a + 1}\\%", "percent word")
    yield (f"{a}", f"{a}\\text{{ cm}}", f"{a + 1}\\text{{ cm}}", "unit text after a value")
    yield (f"{a}\\text{{ cm}}", f"{a} \\text{{ cm}}", f"{a}\\text{{ m}}", "units must agree")
    yield (f"{a} \\text{{ and }} {b}", f"{a}, {b}", f"{a}, {b + 1}", "list joined by \\text{ and }")
    base = r.randint(5, 9)
    numeral = "".join(str(r.randrange(1 if k == 0 else 0, base)) for k in range(3))
    yield (f"{numeral}_{{{base}}}", f"{numeral}_{base}", f"{numeral}{base}", "numeral in a base")
    yield ("\\frac{1}{2}", "\\sin\\frac{\\pi}{6}", "\\cos\\frac{\\pi}{6}", "trigonometric value")
    yield (f"{a}", f"\\log_2 {2 ** a}", f"\\log_2 {2 ** (a + 1)}", "log base")
    yield (f"x \\in [{lo},{hi}]", f"[{lo},{hi}]", f"[{lo},{hi + 1}]", "x in an interval")
    yield (f"\\sec x", f"\\frac{{1}}{{\\cos x}}", f"\\frac{{1}}{{\\sin x}}", "sec")
    yield (f"e^{{{a}}}", f"\\exp({a})", f"\\exp({a + 1})", "exp")
    yield (f"\\ln {a + 1}", f"\\ln({a + 1})", f"\\ln({a + 2})", "ln")


def generate(count: int, seed: int):
    """`count` pairs (about half equal), each a dict gold, pred, expected, source ("corpus: NOTATION"), mv."""
    from math_verify import parse, verify

    r = random.Random(seed)
    out = []
    while len(out) < count:
        for gold, same, other, notation in _pairs(r):
            for pred, expected in ((same, 1), (other, 0)):
                try:
                    mv = int(verify(parse(f"${gold}$"), parse(f"${pred}$")))
                except Exception:  # Math-Verify's own failure: recorded, not fatal
                    mv = -1
                out.append({"source": f"corpus: {notation}", "gold": gold, "pred": pred, "expected": expected,
                            "mv": mv})
    return out[:count]
