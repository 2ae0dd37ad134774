#!/usr/bin/env python3
"""The Faiss (CPU) side of `dinoj bench curation`: the same jobs on the same vectors as dinoj, timed here.

Derived from the project's reference script shared/bench/faiss_cpu.py (same thread and OpenMP settings), but on the
matrix dinoj wrote (raw little-endian float32, row-major) instead of its own random data, at the shapes dinoj passes:
  --job kmeans  faiss.Kmeans(d, k, niter, seed, max_points_per_centroid = every row): random-row initialisation,
                as dinoj's "k-means (random init, as Faiss)" row; reports the seconds of train() and the objective.
  --job knn     IndexFlatIP.add(x) + search(x, k): all rows against all rows; reports the seconds of both.
Prints one line `JSON {...}`. Exit code 3 when faiss (python3-faiss) is not importable.
"""
import argparse
import json
import os
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True)
ap.add_argument("--n", type=int, required=True)
ap.add_argument("--dim", type=int, required=True)
ap.add_argument("--job", choices=["kmeans", "knn"], required=True)
ap.add_argument("--k", type=int, default=10)
ap.add_argument("--iterations", type=int, default=20)
ap.add_argument("--seed", type=int, default=1234)
ap.add_argument("--threads", type=int, default=os.cpu_count())
args = ap.parse_args()

# as shared/bench/faiss_cpu.py: OpenBLAS and OpenMP threads set before import; passive OpenMP waiting so Faiss'
# idle OpenMP threads do not spin against the BLAS threads of the distance GEMMs
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
try:
    import numpy as np
    import faiss
except ImportError as e:
    print("faiss not importable: %s" % e, file=sys.stderr)
    sys.exit(3)

faiss.omp_set_num_threads(args.threads)
x = np.fromfile(args.data, dtype="<f4", count=args.n * args.dim).reshape(args.n, args.dim)
x = np.ascontiguousarray(x)
out = {"faiss": faiss.__version__, "threads": faiss.omp_get_max_threads(), "job": args.job}
if args.job == "kmeans":
    km = faiss.Kmeans(args.dim, args.k, niter=args.iterations, seed=args.seed, verbose=False,
                      max_points_per_centroid=(args.n + args.k - 1) // args.k + 1)
    t = time.perf_counter()
    km.train(x)
    out["seconds"] = time.perf_counter() - t
    out["objective"] = float(km.obj[-1])
else:
    t = time.perf_counter()
    index = faiss.IndexFlatIP(args.dim)
    index.add(x)
    D, I = index.search(x, args.k)
    out["seconds"] = time.perf_counter() - t
    out["self_first_fraction"] = float((I[:, 0] == np.arange(args.n)).mean())
print("JSON " + json.dumps(out), flush=True)
