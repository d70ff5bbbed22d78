"""The anchor for the labelassign benchmark: pandas merge + group-by for the sparse contingency, then SciPy's sparse
matcher (min_weight_full_bipartite_matching with a private "stay unmatched" column per old cluster) on the same
graph, from the .npy columns generate.py wrote. Today's noise items are clusters of their own, as in labelassign.
Prints the seconds of each step and the matched total Jaccard (compare with labelassign's solver on the same data).

Run: /usr/bin/time -v /usr/bin/python3 tools/Cli/bench/pandas_anchor.py DIR
"""
import sys
import time
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

d = sys.argv[1]
t0 = time.perf_counter()
y = pd.DataFrame({"item_id": np.load(f"{d}/yesterday/item_id.npy"), "old_id": np.load(f"{d}/yesterday/cluster_id.npy")})
t = pd.DataFrame({"item_id": np.load(f"{d}/today/item_id.npy"), "new_label": np.load(f"{d}/today/label.npy").astype(np.int64)})
noise = t["new_label"] < 0
order = t.loc[noise, "item_id"].rank(method="first").astype(np.int64)
t.loc[noise, "new_label"] = t["new_label"].max() + order
t1 = time.perf_counter()
j = y.merge(t, on="item_id")
pairs = j.groupby(["old_id", "new_label"], sort=False).size().rename("shared").reset_index()
old_size = pairs.groupby("old_id")["shared"].transform("sum")
new_size = pairs.groupby("new_label")["shared"].transform("sum")
pairs["jaccard"] = pairs["shared"] / (old_size + new_size - pairs["shared"])
pairs = pairs[pairs["old_id"] >= 0]
t2 = time.perf_counter()
old_ids, r = np.unique(pairs["old_id"].to_numpy(), return_inverse=True)
new_ids, c = np.unique(pairs["new_label"].to_numpy(), return_inverse=True)
R, C = old_ids.size, new_ids.size
w = pairs["jaccard"].to_numpy()
m = coo_matrix((np.concatenate([2.0 - w, np.full(R, 2.0)]), (np.concatenate([r, np.arange(R)]), np.concatenate([c, C + np.arange(R)]))),
               shape=(R, C + R)).tocsr()
t3 = time.perf_counter()
ri, ci = min_weight_full_bipartite_matching(m)
t4 = time.perf_counter()
real = ci < C
total = float(2.0 * R - m[ri, ci].sum())
print(f"load {t1 - t0:.2f}s, merge+groupby {t2 - t1:.2f}s, graph {t3 - t2:.2f}s, scipy sparse matching {t4 - t3:.2f}s; "
      f"{R} x {C} clusters, {w.size} pairs, {int(real.sum())} matched, total Jaccard {total:.6f}, "
      f"kept above 0.5: {int((2.0 - np.asarray(m[ri[real], ci[real]]).ravel() > 0.5).sum())}")
