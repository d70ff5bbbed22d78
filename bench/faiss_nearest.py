#!/usr/bin/python3
"""faiss 1.7.3 (Debian's python3-faiss) next to the bench "nearest" and "withineps" cases: nearest centre of each
item under cosine distance (inner product of L2-normalised rows), timed in batches and one query at a time.

    /usr/bin/python3 bench/faiss_nearest.py CENTRES.npy ITEMS.npy [--single N] [--repeats R] [--eps E]
        [--ivf-nlist L] [--ivf-nprobe 1,2,4,...] [--ivf-target 0.99] [--ivf-train-per-list N] [--no-flat]

Prints one JSON object: for IndexFlatIP ("flat") the batch and single items per second, and (with --eps) how many
items have their nearest centre within eps; for IndexIVFFlat ("ivf", with --ivf-nlist) per nprobe the batch items
per second and recall@1 against the flat answer (or, with --no-flat, against --truth NEAREST.npy), and the first
nprobe reaching --ivf-target. Normalising the queries is part of the timed work (a faiss user has to do it too).
Threads: faiss uses OpenMP; set OMP_NUM_THREADS to pin it (the bench case passes the machine's core count).
"""
import argparse, json, sys, time
import numpy as np
import faiss


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])


def timed(fn, repeats):
    fn()  # warm-up (page faults, OpenMP pool)
    ts = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("centres"); ap.add_argument("items")
    ap.add_argument("--single", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--eps", type=float, default=None)
    ap.add_argument("--ivf-nlist", type=int, default=0)
    ap.add_argument("--ivf-nprobe", default="1,2,4,8,16,32,64,128,256")
    ap.add_argument("--ivf-target", type=float, default=0.99)
    ap.add_argument("--ivf-train-per-list", type=int, default=0,
                    help="train IVF on a random sample of this many centres per list (faiss advises 30-256; 0: all)")
    ap.add_argument("--no-flat", action="store_true")
    ap.add_argument("--truth", default=None, help="int32/int64 nearest-centre row per item (when --no-flat)")
    ap.add_argument("--save-flat", default=None, help="write the flat answer here: float64 [items, 2] (row, cosine distance)")
    a = ap.parse_args()

    C = np.array(np.load(a.centres, mmap_mode="r"), dtype=np.float32, order="C", copy=True)
    X = np.ascontiguousarray(np.load(a.items), dtype=np.float32)
    faiss.normalize_L2(C)
    d = C.shape[1]
    out = {"faiss": faiss.__version__, "threads": faiss.omp_get_max_threads(), "centres": int(C.shape[0]),
           "items": int(X.shape[0]), "dimension": int(d)}

    def search(index, Q):
        Q = Q.copy(); faiss.normalize_L2(Q)
        return index.search(Q, 1)

    truth = None
    if not a.no_flat:
        flat = faiss.IndexFlatIP(d); flat.add(C)
        t = timed(lambda: search(flat, X), a.repeats)
        sims, ids = search(flat, X)
        truth = ids[:, 0]
        if a.save_flat:
            np.save(a.save_flat, np.stack([ids[:, 0].astype(np.float64), 1.0 - sims[:, 0].astype(np.float64)], axis=1))
        ns = min(a.single, len(X))
        rows = [X[i:i + 1] for i in range(ns)]
        ts = timed(lambda: [search(flat, r) for r in rows], a.repeats)
        out["flat"] = {"batch_s": t, "batch_items_per_s": len(X) / t, "single_items": ns,
                       "single_items_per_s": ns / ts}
        if a.eps is not None:
            out["flat"]["within_eps"] = int(np.sum(1.0 - sims[:, 0] <= a.eps))
    elif a.truth:
        truth = np.load(a.truth).astype(np.int64)

    if a.ivf_nlist > 0:
        quantizer = faiss.IndexFlatIP(d)
        ivf = faiss.IndexIVFFlat(quantizer, d, a.ivf_nlist, faiss.METRIC_INNER_PRODUCT)
        t0 = time.perf_counter()
        train = C
        if a.ivf_train_per_list > 0 and a.ivf_train_per_list * a.ivf_nlist < len(C):
            pick = np.random.default_rng(0).choice(len(C), a.ivf_train_per_list * a.ivf_nlist, replace=False)
            train = C[np.sort(pick)]
        ivf.train(train); ivf.add(C)
        out["ivf"] = {"nlist": a.ivf_nlist, "build_s": time.perf_counter() - t0, "probes": []}
        for p in [int(v) for v in a.ivf_nprobe.split(",")]:
            if p > a.ivf_nlist:
                break
            ivf.nprobe = p
            t = timed(lambda: search(ivf, X), a.repeats)
            sims, ids = search(ivf, X)
            rec = None if truth is None else float(np.mean(ids[:, 0] == truth))
            row = {"nprobe": p, "batch_s": t, "batch_items_per_s": len(X) / t, "recall_at_1": rec}
            if a.eps is not None:
                row["within_eps"] = int(np.sum(1.0 - sims[:, 0] <= a.eps))
            out["ivf"]["probes"].append(row)
            if rec is not None and rec >= a.ivf_target:
                out["ivf"]["at_target"] = row
                break
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
