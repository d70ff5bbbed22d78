#!/usr/bin/env python3
"""A client of the embedding service written from the article's protocol alone (no code of ours), as a team that
already has one would have written it: the bulk client sends PNGs 8 per request from 2 worker threads with a 500 s
timeout and retries a failed batch once (on an HTTP error too, which the article's client meant to do); the demo client
sends two JPEGs with normalize=true and checks that the norms are 1.

usage: python_client.py URL PNG_FOLDER OUT.npy
Reads PNG_FOLDER/*.png in name order, writes their embeddings (float32, one row per file) to OUT.npy and prints a
JSON summary (demo norms, what the service answered to an empty list and to a bad image) on stdout.
Needs Debian's python3-requests, python3-pil, python3-numpy.
"""
import base64
import io
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import requests
from PIL import Image


def post(url, images_b64, normalize=True, timeout=500):
    return requests.post(url.rstrip("/") + "/embeddings/",
                         json={"base64_images": images_b64, "normalize": normalize}, timeout=timeout)


def embed_batch(url, pngs, retries=1):
    images_b64 = [base64.b64encode(b).decode("ascii") for b in pngs]
    for attempt in range(retries + 1):
        try:
            r = post(url, images_b64)
        except requests.RequestException:
            if attempt == retries:
                raise
            continue
        if r.status_code == 200:
            vectors = r.json()["embeddings"]
            if len(vectors) != len(pngs):
                raise RuntimeError(f"{len(vectors)} vectors for {len(pngs)} images")
            return vectors
        # Retry only what may pass next time (5xx, 429); a 4xx is the request's fault.
        if (r.status_code < 500 and r.status_code != 429) or attempt == retries:
            raise RuntimeError(f"HTTP {r.status_code}: {r.json().get('detail')}")
    raise AssertionError("unreachable")


def main():
    url, folder, out = sys.argv[1:4]
    names = sorted(n for n in os.listdir(folder) if n.endswith(".png"))
    pngs = [open(os.path.join(folder, n), "rb").read() for n in names]
    batches = [pngs[i:i + 8] for i in range(0, len(pngs), 8)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda b: embed_batch(url, b), batches))  # map keeps batch order
    matrix = np.asarray([v for batch in results for v in batch], dtype=np.float32)
    np.save(out, matrix)

    # The demo client: two JPEGs, normalize=true, the norms are 1.
    jpegs = []
    for png in pngs[:2]:
        buffer = io.BytesIO()
        Image.open(io.BytesIO(png)).convert("RGB").save(buffer, format="JPEG", quality=95)
        jpegs.append(base64.b64encode(buffer.getvalue()).decode("ascii"))
    demo = post(url, jpegs, normalize=True)
    demo_norms = np.linalg.norm(np.asarray(demo.json()["embeddings"], dtype=np.float64), axis=1).tolist()

    empty = post(url, [])
    bad = post(url, [base64.b64encode(pngs[0]).decode("ascii"), base64.b64encode(b"not an image").decode("ascii")])
    print(json.dumps({
        "rows": int(matrix.shape[0]), "dimension": int(matrix.shape[1]),
        "demo_status": demo.status_code, "demo_norms": demo_norms,
        "empty_status": empty.status_code, "empty_detail": empty.json().get("detail"),
        "bad_status": bad.status_code, "bad_detail": bad.json().get("detail"),
    }))


if __name__ == "__main__":
    main()
