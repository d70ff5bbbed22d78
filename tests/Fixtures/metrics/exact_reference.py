#!/usr/bin/python3
"""Exact AMI / EMI / MI for some fixture cases, in 50-digit decimal arithmetic (no scikit-learn involved).

Run from anywhere (a few seconds):  /usr/bin/python3 tests/Fixtures/metrics/exact_reference.py
Reads the <case>.npy files written by make_reference.py and writes exact.json next to them. Every value is
rounded to 25 significant digits.

Method: hypergeometric probabilities from exact integer binomials (math.comb) divided in Decimal, logs with
Decimal.ln at 50 digits, E[MI] summed per pair of distinct cluster sizes (the sum depends only on the sizes).
This is an oracle for the C# metrics: sklearn 1.2.1 computes the same quantities with log-gamma in double
precision, which loses about 1e-11 (n = 10,000) to 5e-10 (n = 50,000) to cancellation.
"""
import json
import os
from collections import Counter
from decimal import Decimal, getcontext
from math import comb

import numpy as np

getcontext().prec = 50
HERE = os.path.dirname(os.path.abspath(__file__))
CASES = ["pairs_n10000_k5000", "pairs_n3000_k1500", "sklearn_test_17", "sklearn_test_a110", "big_clusters_n4000",
         "singletons_vs_pairs_n100"]


def ln(x):
    return Decimal(x).ln()


def exact(a, b):
    n = len(a)
    ca, cb = Counter(a.tolist()), Counter(b.tolist())
    cells = Counter(zip(a.tolist(), b.tolist()))
    N = Decimal(n)
    mi = sum(Decimal(c) / N * (ln(c) + ln(n) - ln(ca[i]) - ln(cb[j])) for (i, j), c in cells.items())
    ha = -sum(Decimal(c) / N * (ln(c) - ln(n)) for c in ca.values())
    hb = -sum(Decimal(c) / N * (ln(c) - ln(n)) for c in cb.values())
    emi = Decimal(0)
    for x, mx in Counter(ca.values()).items():
        for y, my in Counter(cb.values()).items():
            den = Decimal(comb(n, y))
            s = Decimal(0)
            for k in range(max(1, x + y - n), min(x, y) + 1):
                p = Decimal(comb(x, k) * comb(n - x, y - k)) / den
                s += p * Decimal(k) / N * (ln(n) + ln(k) - ln(x) - ln(y))
            emi += mx * my * s
    ami = (mi - emi) / ((ha + hb) / 2 - emi)
    return {"ami": ami, "emi": emi, "mi": mi}


def main():
    out = {"generated_by": "tests/Fixtures/metrics/exact_reference.py", "digits": 25, "cases": {}}
    for name in CASES:
        pairs = np.load(os.path.join(HERE, f"{name}.npy"))
        values = exact(pairs[0].astype(np.int64), pairs[1].astype(np.int64))
        out["cases"][name] = {k: format(v, ".25g") for k, v in values.items()}
        print(name, out["cases"][name], flush=True)
    with open(os.path.join(HERE, "exact.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
