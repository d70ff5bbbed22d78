"""Writes sparse_matching.json: overlap graphs (Jaccard weights of two random labellings with realistic overlap)
and SciPy's optimal maximum-weight partial matching on each.

Provenance: Debian python3-scipy 1.10 (scipy.sparse.csgraph.min_weight_full_bipartite_matching, LAPJVsp),
numpy's default_rng(seed). Run: /usr/bin/python3 tests/Fixtures/SparseAssignment/make_sparse_fixture.py

The partial matching is made a full one with a private "stay unmatched" column per row: row i gets column
C + i at cost 2, and a real edge of weight w costs 2 - w (> 0, so no entry is an explicit zero). Every row is
matched exactly once, so the full matching's cost is 2 * R - (total weight of the real edges it uses).
"""
import json
import numpy as np
import scipy
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching


def overlap_graph(rng, n_items, k_old):
    # Today's clusters are built from 1-5 of yesterday's plus churn: merge/split by relabelling groups of items.
    old = rng.integers(0, k_old, n_items)
    # each old cluster sends its items to 1-3 new clusters; new labels are shared between a few old clusters
    k_new = max(2, int(k_old * rng.uniform(0.7, 1.3)))
    targets = [rng.choice(k_new, size=rng.integers(1, 4), replace=False) for _ in range(k_old)]
    new = np.array([rng.choice(targets[o]) if rng.random() > 0.1 else rng.integers(0, k_new) for o in old])
    pairs = {}
    for o, n in zip(old, new):
        pairs[(o, n)] = pairs.get((o, n), 0) + 1
    old_size = np.bincount(old, minlength=k_old)
    new_size = np.bincount(new, minlength=k_new)
    rows, cols, w = [], [], []
    for (o, n), inter in sorted(pairs.items()):
        rows.append(int(o)); cols.append(int(n)); w.append(inter / (old_size[o] + new_size[n] - inter))
    return k_old, k_new, rows, cols, w


def solve(r, c, rows, cols, w):
    rr = list(rows) + list(range(r))
    cc = list(cols) + [c + i for i in range(r)]
    vals = [2.0 - x for x in w] + [2.0] * r
    m = coo_matrix((vals, (rr, cc)), shape=(r, c + r)).tocsr()
    row_ind, col_ind = min_weight_full_bipartite_matching(m)
    weight = {(a, b): x for a, b, x in zip(rows, cols, w)}
    matched = [(int(a), int(b)) for a, b in zip(row_ind, col_ind) if b < c]
    total = sum(weight[p] for p in matched)
    cost = float(m[row_ind, col_ind].sum())
    assert abs((2 * r - total) - cost) < 1e-9
    return matched, total


cases = []
rng = np.random.default_rng(20261201)
for k_old, n_items in [(5, 40), (12, 150), (30, 400), (60, 900), (150, 2500), (400, 6000)]:
    r, c, rows, cols, w = overlap_graph(rng, n_items, k_old)
    matched, total = solve(r, c, rows, cols, w)
    cases.append({"rows": r, "columns": c, "edgeRows": rows, "edgeColumns": cols, "weights": w,
                  "scipyTotal": total, "scipyPairs": matched})

with open(__file__.replace("make_sparse_fixture.py", "sparse_matching.json"), "w") as f:
    json.dump({"scipy": scipy.__version__, "cases": cases}, f)
print("scipy", scipy.__version__, [(c["rows"], c["columns"], len(c["weights"]), round(c["scipyTotal"], 6)) for c in cases])
