"""Generates two days of labels with realistic overlap for the labelassign benchmark.

Yesterday: n items in k clusters (sizes skewed, Zipf-like) plus 2% noise; its stable IDs are the labels themselves.
Today: 5% of yesterday's items leave and 5% new items arrive; each of today's clusters is built from 1-5 of
yesterday's (old clusters are split in two or merged in groups), 3% of items move to a random cluster, 2% are noise.
Writes DIR/yesterday.csv (item_id,cluster_id), DIR/today.csv (item_id,label) and the same tables as folders of .npy
columns (DIR/yesterday/item_id.npy, DIR/yesterday/cluster_id.npy, DIR/today/item_id.npy, DIR/today/label.npy).

Run: /usr/bin/python3 tools/Cli/bench/generate.py DIR N K [SEED] [npy]   (npy: only the .npy folders, no CSV: for 10^8 items)
"""
import sys
import numpy as np

out, n, k = sys.argv[1], int(float(sys.argv[2])), int(float(sys.argv[3]))
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
rng = np.random.default_rng(seed)

# Yesterday: skewed sizes, ids shuffled so the files are not sorted by cluster.
weights = 1.0 / np.arange(1, k + 1) ** 0.6
weights /= weights.sum()
old = rng.choice(k, size=n, p=weights).astype(np.int32)
old[rng.random(n) < 0.02] = -1
y_ids = rng.permutation(n).astype(np.int64) * 2  # even ids

# Today's clusters from yesterday's: a map old -> (new a, new b) where a 20% of clusters split in two and groups of
# 2-4 small clusters merge (realistic "1-5 of yesterday's").
order = rng.permutation(k)
new_of = np.empty(k, dtype=np.int64)
split_to = np.full(k, -1, dtype=np.int64)
label = 0
i = 0
while i < k:
    r = rng.random()
    if r < 0.15 and i + 1 < k:                      # merge 2-4 clusters
        g = min(k - i, int(rng.integers(2, 5)))
        new_of[order[i:i + g]] = label
        label += 1
        i += g
    elif r < 0.35:                                  # split in two
        new_of[order[i]] = label
        split_to[order[i]] = label + 1
        label += 2
        i += 1
    else:
        new_of[order[i]] = label
        label += 1
        i += 1
k_new = label
relabel = rng.permutation(k_new)                    # fresh clustering: arbitrary label numbers

keep = rng.random(n) >= 0.05
t_ids_old = y_ids[keep]
t_old = old[keep]
lab = np.where(t_old >= 0, new_of[np.maximum(t_old, 0)], rng.integers(0, k_new, t_old.size))
half = (rng.random(t_old.size) < 0.5) & (t_old >= 0) & (split_to[np.maximum(t_old, 0)] >= 0)
lab = np.where(half, split_to[np.maximum(t_old, 0)], lab)
moved = rng.random(lab.size) < 0.03
lab[moved] = rng.integers(0, k_new, moved.sum())
lab = relabel[lab].astype(np.int32)
n_new = int(n * 0.05)
new_ids = (np.arange(n_new, dtype=np.int64) * 2 + 1)  # odd ids: new items
new_lab = relabel[rng.integers(0, k_new, n_new)].astype(np.int32)
t_ids = np.concatenate([t_ids_old, new_ids])
t_lab = np.concatenate([lab, new_lab])
t_lab[rng.random(t_lab.size) < 0.02] = -1
perm = rng.permutation(t_ids.size)
t_ids, t_lab = t_ids[perm], t_lab[perm]

# The same tables as folders of .npy columns (labelassign reads a folder FOLDER/<column>.npy as a table).
import os
for name, cols in [("yesterday", {"item_id": y_ids, "cluster_id": old}), ("today", {"item_id": t_ids, "label": t_lab})]:
    os.makedirs(f"{out}/{name}", exist_ok=True)
    for col, a in cols.items():
        np.save(f"{out}/{name}/{col}.npy", a)
npy_only = len(sys.argv) > 5 and sys.argv[5] == "npy"
for name, a, b, h in ([] if npy_only else [("yesterday", y_ids, old, "item_id,cluster_id"), ("today", t_ids, t_lab, "item_id,label")]):
    with open(f"{out}/{name}.csv", "w") as f:
        f.write(h + "\n")
        np.savetxt(f, np.column_stack([a, b.astype(np.int64)]), fmt="%d", delimiter=",")
print(f"{n} items yesterday in {k} clusters; {t_ids.size} today in {k_new} clusters")
