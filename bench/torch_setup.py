"""Fair set-up of a PyTorch reference, shared by bench/torch_ref.py and bench/torch_ig_ref.py.

Imported before torch: OpenBLAS (the BLAS Debian's torch calls) gets one thread so that its
pthread pool does not fight torch's OpenMP pool over the cores; MKL likewise; OpenMP may use
every core, and each figure is taken with 1 and with 2 torch threads, keeping the faster.
setup_line() names what was loaded: the torch version, its BLAS (torch.__config__) and the
thread pools threadpoolctl sees (when it is installed)."""
import os
import re

for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS"):
    os.environ[var] = "1"
os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 2))

import torch  # noqa: E402  (after the environment on purpose)

try:  # a BLAS loaded before this module read its environment: limit it now
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=1, user_api="blas")
except ImportError:
    pass

THREADS = sorted({1, min(2, os.cpu_count() or 2)})


def pools():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl absent"
    out = []
    for p in threadpool_info():
        name = p.get("internal_api", "?")
        if p.get("version"):
            name += " " + p["version"]
        if p.get("threading_layer"):
            name += "/" + p["threading_layer"]
        out.append("%s %s threads" % (name, p.get("num_threads")))
    return ", ".join(out) or "no pools"


def blas_info():
    m = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return m.group(1) if m else "unknown"


def setup_line():
    return ("torch %s, BLAS_INFO=%s, OPENBLAS_NUM_THREADS=%s OMP_NUM_THREADS=%s, pools: %s; "
            "best of torch threads %s" % (torch.__version__, blas_info(),
                                          os.environ["OPENBLAS_NUM_THREADS"],
                                          os.environ["OMP_NUM_THREADS"], pools(),
                                          "/".join(map(str, THREADS))))


def best_of_threads(fn, better=max):
    """Runs fn() under every thread count in THREADS; returns (best result, its threads).
    fn returns a number; better picks the best (max for a rate, min for a time)."""
    res = []
    for t in THREADS:
        torch.set_num_threads(t)
        res.append((fn(), t))
    return better(res, key=lambda r: r[0])
