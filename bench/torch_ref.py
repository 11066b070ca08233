"""PyTorch reference for bench/bench_train.sh: the same architectures and hyper-parameters as
lumen's engine (src/nn), trained for one epoch on random data of the same shape, in the fair
set-up of bench/torch_setup.py (OpenBLAS one thread, each figure the faster of 1 and 2 torch
threads; the set-up is printed first).

  /usr/bin/python3 bench/torch_ref.py [ROWS [INPUTS]]

mlp: 2 x 64, ReLU, dropout 0.1, batch 256, AdamW lr 1e-3 wd 1e-4.
transformer: one token per input (a vector and a bias per input), CLS, d 32, 2 pre-norm
blocks, 4 heads, FFN 64 with tanh-GELU, dropout 0.1 on the FFN hidden and attention output,
head LN + linear on CLS; batch 256, AdamW lr 1e-3.
(logreg is solved by lumen, not trained: bench/bench_logreg.sh compares it with scikit-learn.)
Prints the set-up, then one line per architecture: name, training samples/s, inference us a
patient, and the torch threads of each figure.
"""
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import torch_setup  # sets the BLAS/OpenMP environment, then imports torch
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("torch_ref: PyTorch is not installed (Debian's python3-torch); reference skipped")
    sys.exit(0)

torch.manual_seed(1)


class MLP(nn.Module):
    def __init__(self, n_in):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_in, 64), nn.ReLU(), nn.Dropout(0.1),
            nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.1),
            nn.Linear(64, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


class Block(nn.Module):
    def __init__(self, d, heads, ffn, p):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.drop1 = nn.Dropout(p)
        self.ln2 = nn.LayerNorm(d)
        self.w1 = nn.Linear(d, ffn)
        self.drop2 = nn.Dropout(p)
        self.w2 = nn.Linear(ffn, d)

    def forward(self, x):
        h = self.ln1(x)
        a, _ = self.attn(h, h, h, need_weights=False)
        x = x + self.drop1(a)
        h = self.ln2(x)
        return x + self.w2(self.drop2(F.gelu(self.w1(h), approximate="tanh")))


class FTTransformer(nn.Module):
    def __init__(self, n_in, d=32, blocks=2, heads=4, ffn=64, p=0.1):
        super().__init__()
        b = 1 / math.sqrt(d)
        self.w = nn.Parameter(torch.empty(n_in, d).uniform_(-b, b))
        self.b = nn.Parameter(torch.empty(n_in, d).uniform_(-b, b))
        self.cls = nn.Parameter(torch.empty(1, 1, d).uniform_(-b, b))
        self.blocks = nn.ModuleList(Block(d, heads, ffn, p) for _ in range(blocks))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, 1)

    def forward(self, x):
        t = x.unsqueeze(-1) * self.w + self.b
        t = torch.cat([self.cls.expand(x.shape[0], 1, -1), t], dim=1)
        for blk in self.blocks:
            t = blk(t)
        return self.head(self.ln(t[:, 0])).squeeze(-1)


def train_epoch(make, X, y, lr, wd, batch=256):
    torch.manual_seed(1)
    model = make()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    n = X.shape[0]
    perm = torch.randperm(n)
    model.train()
    t = time.perf_counter()
    for i in range(0, n, batch):
        idx = perm[i:i + batch]
        logits = model(X[idx])
        loss = F.binary_cross_entropy_with_logits(logits, y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return n / (time.perf_counter() - t), model


def infer_us(model, X):
    model.eval()
    with torch.no_grad():
        torch.sigmoid(model(X[:1024]))  # warm-up
        t = time.perf_counter()
        for i in range(0, X.shape[0], 1024):
            torch.sigmoid(model(X[i:i + 1024]))
        return (time.perf_counter() - t) / X.shape[0] * 1e6


def bench(name, make, X, y, lr, wd):
    models = {}

    def run():
        rate, models[torch.get_num_threads()] = train_epoch(make, X, y, lr, wd)
        return rate
    train, tt = torch_setup.best_of_threads(run, max)
    m = models[tt]
    infer, ti = torch_setup.best_of_threads(lambda: infer_us(m, X), min)
    print(f"torch {name:<12} {train:12.0f} {infer:14.2f}   {tt}/{ti}")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    nin = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    g = torch.Generator().manual_seed(1)
    X = torch.randn(n, nin, generator=g)
    y = ((X[:, ::3] * 0.5).sum(1) + 0.5 * torch.randn(n, generator=g) > 0).float()
    print("torch setup: " + torch_setup.setup_line())
    print(f"torch {'arch':<12} {'train_smp/s':>12} {'infer_us/pt':>14}   threads(train/infer)")
    bench("mlp", lambda: MLP(nin), X, y, 1e-3, 1e-4)
    # the transformer is slow: a fifth of the rows gives a stable figure
    bench("transformer", lambda: FTTransformer(nin), X[: max(n // 5, 2000)],
          y[: max(n // 5, 2000)], 1e-3, 1e-4)


if __name__ == "__main__":
    main()
