#!/usr/bin/python3
"""PyTorch reference for bench/bench_explain.sh: the same integrated-gradients computation
as lumen's ig_batch (Gauss-Legendre nodes on [0, 1], 64 steps, all steps of a chunk of
patients in one batched forward and one backward, attributions = (x - b) * sum_k w_k grad_k)
on models of the same sizes as bench/explain_bench.c: mlp 2 x 64 ReLU; transformer
FT-style (a vector and a bias per feature token, CLS, d 32, 2 pre-norm blocks, 4 heads,
FFN 64 GELU, LN + linear head on CLS); logreg. Random weights, float32. The fair set-up of
bench/torch_setup.py: OpenBLAS one thread, each figure the faster of 1 and 2 torch threads.
Prints "# setup ..." and then "key value threads" lines like explain_bench.
Usage: torch_ig_ref.py [INPUTS [PATIENTS]]"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import torch_setup  # sets the BLAS/OpenMP environment, then imports torch
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError as e:  # the bench script prints the skip message
    print("skip torch absent (%s)" % e)
    sys.exit(0)

torch.manual_seed(1)
D = int(sys.argv[1]) if len(sys.argv) > 1 else 20
N = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
STEPS = 64


class Block(nn.Module):
    def __init__(self, d=32, h=4, f=64):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, h, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(d, f), nn.GELU(), nn.Linear(f, d))

    def forward(self, x):
        y = self.ln1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.ffn(self.ln2(x))


class FTT(nn.Module):
    def __init__(self, n, d=32, blocks=2):
        super().__init__()
        self.w = nn.Parameter(torch.randn(n, d) * d ** -0.5)
        self.b = nn.Parameter(torch.randn(n, d) * d ** -0.5)
        self.cls = nn.Parameter(torch.randn(1, 1, d) * d ** -0.5)
        self.blocks = nn.ModuleList([Block(d) for _ in range(blocks)])
        self.head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 1))

    def forward(self, x):
        t = x.unsqueeze(-1) * self.w + self.b
        t = torch.cat([self.cls.expand(x.shape[0], 1, -1), t], 1)
        for b in self.blocks:
            t = b(t)
        return self.head(t[:, 0])


def models():
    yield "logreg", nn.Linear(D, 1)
    yield "mlp", nn.Sequential(nn.Linear(D, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                               nn.Linear(64, 1))
    yield "transformer", FTT(D)


x_, w_ = np.polynomial.legendre.leggauss(STEPS)
alpha = torch.tensor((x_ + 1) / 2, dtype=torch.float32)
weight = torch.tensor(w_ / 2, dtype=torch.float32)


def ig(model, X, base, chunk):
    out = torch.empty_like(X)
    for i in range(0, X.shape[0], chunk):
        x = X[i:i + chunk]
        p = (base + alpha.view(1, -1, 1) * (x - base).unsqueeze(1)).reshape(-1, D)
        p.requires_grad_(True)
        model(p).sum().backward()
        g = p.grad.view(x.shape[0], STEPS, D)
        out[i:i + chunk] = (x - base) * (weight.view(1, -1, 1) * g).sum(1)
    return out


X = torch.randn(N, D)
base = torch.zeros(D)
print("# setup " + torch_setup.setup_line())
for name, m in models():
    m.eval()
    for p in m.parameters():
        p.requires_grad_(False)
    chunk = 64 if name == "transformer" else 256
    n = N // 10 if name == "transformer" else N  # as explain_bench

    def throughput():
        ig(m, X[:64], base, chunk)  # warm-up
        t = time.perf_counter()
        ig(m, X[:n], base, chunk)
        return n / (time.perf_counter() - t)

    def latency():
        ig(m, X[:1], base, 1)
        lat = []
        for k in range(20 if name == "transformer" else 100):
            t = time.perf_counter()
            ig(m, X[k:k + 1], base, 1)
            lat.append(time.perf_counter() - t)
        return sorted(lat)[len(lat) // 2] * 1e3

    rate, th = torch_setup.best_of_threads(throughput, max)
    print("%s_ig_patients_per_s %.0f %d" % (name, rate, th))
    torch.set_num_threads(1)
    print("%s_ig_patients_per_s_1thread %.0f 1" % (name, throughput()))
    torch.set_num_threads(th)
    c = time.process_time()
    ig(m, X[:n], base, chunk)
    print("%s_ig_cpu_ms_per_patient %.3f %d" % (name, (time.process_time() - c) / n * 1e3, th))
    ms, th = torch_setup.best_of_threads(latency, min)
    print("%s_single_patient_ms %.3f %d" % (name, ms, th))
