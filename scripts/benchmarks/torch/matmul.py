"""PyTorch twin of scripts/benchmarks/matmul.lua: torch.matmul(a, b) on two
SIZE x SIZE float32 tensors, timed the same way (warm-up calls, then every
repetition timed on its own; a round's figure is the median, the best of the
rounds is reported). Prints one line:
  torch_matmul size=1024 threads=1 reps=21 rounds=3 median_s=... gflops=... version=...
"""
import argparse
import statistics
import time

import torch


def one_round(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=1024)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--reps", type=int, default=21)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--rounds", type=int, default=3)
    o = p.parse_args()
    torch.set_num_threads(o.threads)
    torch.manual_seed(1)
    a, b = torch.randn(o.size, o.size), torch.randn(o.size, o.size)
    with torch.no_grad():
        best = min(one_round(lambda: torch.matmul(a, b), o.warmup, o.reps) for _ in range(o.rounds))
    gflops = 2 * o.size**3 / best / 1e9
    print(f"torch_matmul size={o.size} threads={torch.get_num_threads()} reps={o.reps} rounds={o.rounds} "
          f"median_s={best:.6g} gflops={gflops:.2f} version={torch.__version__}")


if __name__ == "__main__":
    main()
