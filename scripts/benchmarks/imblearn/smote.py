"""The twin of scripts/benchmarks/smote.lua in scikit-learn / imbalanced-learn: the exact
k-NN of every row of ROWS x COLS normal samples among the others (NearestNeighbors,
brute force, timed once without warm-up: it takes tens of seconds), and
SMOTE().fit_resample with one row in 10 of class 1. Prints one line:
    imblearn_smote threads=T knn_s=... smote_s=... version=...
"""
import argparse
import os
import statistics
import time

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--rows", type=int, default=100000)
    p.add_argument("--cols", type=int, default=30)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    a = p.parse_args()

    import imblearn
    from imblearn.over_sampling import SMOTE
    from sklearn.neighbors import NearestNeighbors

    x = np.random.default_rng(1).standard_normal((a.rows, a.cols)).astype(np.float32)
    y = (np.arange(1, a.rows + 1) % 10 == 0).astype(np.int64)

    t = time.perf_counter()
    nn = NearestNeighbors(n_neighbors=a.k + 1, algorithm="brute", n_jobs=a.threads).fit(x)
    nn.kneighbors(x, return_distance=False)
    knn_s = time.perf_counter() - t

    smote = SMOTE(k_neighbors=NearestNeighbors(n_neighbors=a.k + 1, n_jobs=a.threads), random_state=0)
    for _ in range(a.warmup):
        smote.fit_resample(x, y)
    times = []
    for _ in range(a.reps):
        t = time.perf_counter()
        smote.fit_resample(x, y)
        times.append(time.perf_counter() - t)
    print(f"imblearn_smote threads={a.threads} knn_s={knn_s:.4g} smote_s={statistics.median(times):.4g} "
          f"version={imblearn.__version__}")


if __name__ == "__main__":
    main()
