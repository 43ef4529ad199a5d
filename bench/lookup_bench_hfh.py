#!/usr/bin/python3
"""The Python side of the cache-lookup micro-benchmark (see lookup_bench.c).

Run with the real client on the path, e.g.
    PYTHONPATH=/tmp/hfh/src /usr/bin/python3 bench/lookup_bench_hfh.py \
        --cache-dir DIR --repo ID --files a,b,c,d,e

Measures, on the same cache hubfetch populated, one call at a time
(time.perf_counter_ns):
  snapshot        snapshot_download(repo, revision, cache_dir, local_files_only=True)
  files           for f in files: hf_hub_download(repo, f, revision, cache_dir,
                                                  local_files_only=True)
  files_try       for f in files: try_to_load_from_cache(repo, f, cache_dir, revision)
                  (must return a str path for every file)
Prints one JSON object per line, as lookup_bench does. Exit 77 if huggingface_hub
cannot be imported; 1 if a lookup fails or returns something unexpected.
"""
import argparse
import json
import os
import platform
import sys
import time


def stats(name, samples_ns, files, version):
    t = sorted(s / 1000.0 for s in samples_ns)
    n = len(t)
    median = t[n // 2] if n % 2 else (t[n // 2 - 1] + t[n // 2]) / 2
    rank = max(1, min(n, -(-99 * n // 100)))  # nearest rank, ceil(0.99 n)
    return {"name": name, "calls": n, "files": files, "median_us": round(median, 3),
            "p99_us": round(t[rank - 1], 3), "mean_us": round(sum(t) / n, 3),
            "min_us": round(t[0], 3), "max_us": round(t[-1], 3),
            "client": "huggingface_hub " + version, "python_version": platform.python_version()}


def measure(fn, iterations, max_seconds, warmup):
    for _ in range(warmup):
        fn()
    samples = []
    clock = time.perf_counter_ns
    start = clock()
    limit = max_seconds * 1e9
    while len(samples) < iterations:
        t0 = clock()
        fn()
        t1 = clock()
        samples.append(t1 - t0)
        if len(samples) >= 100 and t1 - start > limit:
            break
    return samples


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cache-dir", required=True)
    p.add_argument("--repo", required=True)
    p.add_argument("--revision", default="main")
    p.add_argument("--files", default="")
    p.add_argument("--iterations", type=int, default=20000)
    p.add_argument("--max-seconds", type=float, default=3.0)
    p.add_argument("--warmup", type=int, default=50)
    a = p.parse_args()
    try:
        import huggingface_hub
        from huggingface_hub import hf_hub_download, snapshot_download, try_to_load_from_cache
    except Exception as e:  # noqa: BLE001 - any import problem means "unavailable"
        print(f"huggingface_hub unavailable: {e}", file=sys.stderr)
        return 77
    version = huggingface_hub.__version__
    files = [f for f in a.files.split(",") if f]

    expected = os.path.realpath(snapshot_download(a.repo, revision=a.revision, cache_dir=a.cache_dir,
                                                  local_files_only=True))

    def snap():
        path = snapshot_download(a.repo, revision=a.revision, cache_dir=a.cache_dir,
                                 local_files_only=True)
        if not path:
            raise RuntimeError("snapshot_download returned nothing")

    def req():
        for f in files:
            hf_hub_download(a.repo, f, revision=a.revision, cache_dir=a.cache_dir,
                            local_files_only=True)

    def req_try():
        for f in files:
            path = try_to_load_from_cache(a.repo, f, cache_dir=a.cache_dir, revision=a.revision)
            if not isinstance(path, str):
                raise RuntimeError(f"try_to_load_from_cache({f!r}) -> {path!r}")

    if not os.path.isdir(expected):
        print(f"snapshot folder {expected} missing", file=sys.stderr)
        return 1
    try:
        out = [stats("snapshot", measure(snap, a.iterations, a.max_seconds, a.warmup), None, version)]
        if files:
            out.append(stats("files", measure(req, a.iterations, a.max_seconds, a.warmup),
                             len(files), version))
            out.append(stats("files_try", measure(req_try, a.iterations, a.max_seconds, a.warmup),
                             len(files), version))
    except Exception as e:  # noqa: BLE001
        print(f"lookup failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    for o in out:
        print(json.dumps(o), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
