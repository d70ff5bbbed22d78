"""Fixture for tests/Online/SeedLoopTests.cs: the article's online loop on a small input.

Run from the repository root with Debian's Python (numpy, scikit-learn 1.2.1, pandas):
    /usr/bin/python3 tests/Fixtures/Online/make_seed_loop_fixture.py [OUT_DIR]
`nearest_neighbour_loop` below is a copy of the one in ../shared/anchors/anchor_bench.py (the faithful re-run of
the seed notebook's pandas loop: first centre within eps in table order, centre recomputed as the mean of the
cluster's rows, smallest-free IDs), without its timing, so the script needs nothing outside the repository.
It writes, next to this script unless OUT_DIR is given:
    seed_loop_X.npy            float32 [n, 8]: 40 clumps of unit vectors plus background, seed 7
    seed_loop_dbscan.npy       int64 [n_init]: DBSCAN(eps=0.1, min_samples=3, metric='cosine') labels of the init rows
    seed_loop_init_ids.npy     int64 [n_init]: cluster ids after the seed gives each noise point a fresh id
    seed_loop_stream_ids.npy   int64 [n - n_init]: ids the loop gives the streamed rows, in order
"""
import os
import sys

import numpy as np
import pandas as pd
from sklearn.cluster import DBSCAN
from sklearn.metrics.pairwise import cosine_distances


def id_generator(used):
    """Smallest ids not in `used`, in increasing order (as the seed notebook does)."""
    i = 0
    while True:
        while i in used:
            i += 1
        yield i
        i += 1


def nearest_neighbour_loop(X, eps, n_init, n_stream):
    """The seed notebook's online assignment as written: pandas tables, one cosine_distances call per centre
    until the first centre within eps, pd.concat per new row, centre recomputed as the mean of the cluster's rows.
    Returns (init_ids, stream_ids)."""
    df = pd.DataFrame({"item_id": np.arange(n_init + n_stream),
                       "embeddings": [X[i].astype(np.float64) for i in range(n_init + n_stream)]})
    train_df = df.head(n_init).copy()
    labels = DBSCAN(eps=eps, min_samples=3, metric="cosine").fit(train_df["embeddings"].tolist()).labels_
    gen = id_generator(set(labels.tolist()))
    train_df["cluster_id"] = [next(gen) if e == -1 else int(e) for e in labels]
    centre_ids, centres = [], []
    for cid, group in train_df.groupby("cluster_id"):  # sorted by cluster_id, like groupby().first()
        centre_ids.append(cid)
        centres.append(np.mean(np.stack(group["embeddings"].tolist()), axis=0).tolist())
    cluster_id_df = train_df[["item_id", "embeddings", "cluster_id"]]
    cluster_center_df = pd.DataFrame({"cluster_id": centre_ids, "cluster_center": centres})
    gen = id_generator(set(train_df["cluster_id"].tolist()))
    test_df = df[n_init:]
    stream_ids = []
    for item_id, embed in zip(test_df["item_id"].tolist(), test_df["embeddings"].tolist()):
        found = False
        for cluster_id, cluster_center in zip(cluster_center_df["cluster_id"].tolist(),
                                              cluster_center_df["cluster_center"].tolist()):
            if cosine_distances([embed], [cluster_center])[0][0] <= eps:
                found, this_id = True, cluster_id
                break
        if not found:
            this_id, this_center = next(gen), embed
        row = {"item_id": item_id, "embeddings": embed, "cluster_id": this_id}
        cluster_id_df = pd.concat([cluster_id_df, pd.DataFrame([row])], ignore_index=True)
        if found:
            members = cluster_id_df[cluster_id_df["cluster_id"] == this_id]["embeddings"].tolist()
            new_center = np.mean(members, axis=0).tolist()
            for idx in cluster_center_df.index[cluster_center_df["cluster_id"] == this_id]:
                cluster_center_df.at[idx, "cluster_center"] = new_center
        else:
            cluster_center_df = pd.concat([cluster_center_df,
                                           pd.DataFrame([{"cluster_id": this_id, "cluster_center": this_center}])],
                                          ignore_index=True)
        stream_ids.append(int(this_id))
    return (np.asarray(train_df["cluster_id"].to_numpy(), dtype=np.int64), np.asarray(stream_ids, dtype=np.int64))


here = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
d, n_init, n_stream = 8, 300, 200
means = rng.normal(size=(40, d))
rows = []
for i in range(n_init + n_stream):
    if rng.random() < 0.25:
        v = rng.normal(size=d)
    else:
        v = means[rng.integers(40)] + 0.25 * rng.normal(size=d)
    rows.append(v / np.linalg.norm(v))
X = np.asarray(rows, dtype=np.float32)
labels = DBSCAN(eps=0.1, min_samples=3, metric="cosine").fit(X[:n_init].astype(np.float64)).labels_
init_ids, stream_ids = nearest_neighbour_loop(X, 0.1, n_init, n_stream)
assert len(stream_ids) == n_stream
np.save(os.path.join(here, "seed_loop_X.npy"), X)
np.save(os.path.join(here, "seed_loop_dbscan.npy"), labels.astype(np.int64))
np.save(os.path.join(here, "seed_loop_init_ids.npy"), init_ids)
np.save(os.path.join(here, "seed_loop_stream_ids.npy"), stream_ids)
print("clusters", labels.max() + 1, "noise", int((labels < 0).sum()), "centres_at_start", len(set(init_ids.tolist())),
      "new", len(set(stream_ids.tolist()) - set(init_ids.tolist())))
