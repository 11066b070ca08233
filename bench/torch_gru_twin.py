"""A PyTorch twin of lumen's --model gru, for bench/bench_gru.sh and bench/bench_seq_quality.sh.

Quality (default): reads a patients CSV and a visits CSV, encodes them as lumen does (static
numeric columns standardised with the training fold, missing imputed to 0 with an indicator,
text one-hot; the last K visits right-aligned with every lab standardised over the training
patients' visits, a missing mask, time since the previous and the first visit, a present
flag), runs 5-fold stratified cross-validation with a GRU of the same size (PyTorch's nn.GRU
on packed sequences: exact masking), its last state with the static inputs into a
ReLU head, AdamW (lr 1e-3, weight decay 1e-4), batch 256, 15% held out for early stopping
(patience 10), and prints the out-of-fold AUC, Brier score and calibration slope.

--bench: training samples/s and integrated-gradients patients/s (64 steps, batched) of the
same network on random sequences of the given size, each the faster of 1 and 2 threads.
"""
import argparse
import csv
import math
import sys
import time

import torch_setup  # noqa: F401  (OpenBLAS at one thread before torch is imported)
import numpy as np
import torch
from torch import nn


class Twin(nn.Module):
    def __init__(self, n_static, n_feat, hidden, head):
        super().__init__()
        self.gru = nn.GRU(n_feat, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(n_static + hidden, head), nn.ReLU(), nn.Linear(head, 1))

    def forward(self, xs, seq, lengths):
        # sequences left-aligned for packing; an empty one gets the zero state
        n = xs.shape[0]
        h = torch.zeros(n, self.gru.hidden_size, dtype=xs.dtype)
        has = lengths > 0
        if bool(has.any()):
            packed = nn.utils.rnn.pack_padded_sequence(seq[has], lengths[has].cpu(), batch_first=True,
                                                       enforce_sorted=False)
            _, hn = self.gru(packed)
            h = h.index_put((has.nonzero().squeeze(1),), hn[0])
        return self.head(torch.cat([xs, h], 1)).squeeze(1)


def read_csv(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        head = next(r)
        return head, [row for row in r]


def num(s):
    try:
        v = float(s)
        return v if math.isfinite(v) else None
    except ValueError:
        return None


def encode(args):
    ph, prow = read_csv(args.patients)
    vh, vrow = read_csv(args.visits)
    idp, idv, tv = ph.index(args.id), vh.index(args.id), vh.index(args.time)
    tgt = ph.index(args.target)
    y = np.array([1.0 if r[tgt] == args.positive else 0.0 for r in prow])
    skip = {args.id, args.target} | set(args.exclude.split(",") if args.exclude else [])
    static = []  # (kind, column index, category)
    for j, name in enumerate(ph):
        if name in skip:
            continue
        vals = [r[j] for r in prow if r[j] != ""]
        if all(num(v) is not None for v in vals):
            static.append(("num", j, None))
            if len(vals) < len(prow):
                static.append(("miss", j, None))
        else:
            for c in sorted(set(vals)):
                static.append(("cat", j, c))
    vskip = {args.id, args.time} | set(args.visit_exclude.split(",") if args.visit_exclude else [])
    labs = [j for j, name in enumerate(vh) if name not in vskip and
            all(num(r[j]) is not None for r in vrow if r[j] != "") and any(r[j] != "" for r in vrow)]
    by = {}
    for r in vrow:
        by.setdefault(r[idv], []).append((float(r[tv]), [num(r[j]) for j in labs]))
    seqs = [sorted(by.get(r[idp], []), key=lambda v: v[0]) for r in prow]  # stable: file order
    return prow, y, static, labs, seqs


def fold_tensors(prow, static, labs, seqs, K, train):
    n = len(prow)
    xs = np.zeros((n, len(static)), np.float32)
    for s, (kind, j, c) in enumerate(static):
        col = [num(r[j]) if kind != "cat" else None for r in prow]
        if kind == "num":
            tr = [col[i] for i in train if col[i] is not None]
            m = float(np.mean(tr)) if tr else 0.0
            sd = float(np.std(tr)) if tr else 1.0
            sd = sd if sd > 1e-12 else 1.0
            xs[:, s] = [0.0 if v is None else (v - m) / sd for v in col]
        elif kind == "miss":
            xs[:, s] = [1.0 if prow[i][j] == "" else 0.0 for i in range(n)]
        else:
            xs[:, s] = [1.0 if prow[i][j] == c else 0.0 for i in range(n)]
    L = len(labs)
    mean, sd = np.zeros(L), np.ones(L)
    gp, gf = [], []
    for q in range(L):
        v = [vis[1][q] for i in train for vis in seqs[i] if vis[1][q] is not None]
        if v:
            mean[q] = np.mean(v)
            s = np.std(v)
            sd[q] = s if s > 1e-12 else 1.0
    for i in train:
        for k, vis in enumerate(seqs[i]):
            gp.append(vis[0] - seqs[i][k - 1][0] if k else 0.0)
            gf.append(vis[0] - seqs[i][0][0])
    sp = math.sqrt(np.mean(np.square(gp))) if gp and np.any(gp) else 1.0
    sf = math.sqrt(np.mean(np.square(gf))) if gf and np.any(gf) else 1.0
    F = 2 * L + 3
    seq = np.zeros((n, K, F), np.float32)
    lengths = np.zeros(n, np.int64)
    for i in range(n):
        vs = seqs[i]
        kept = vs[-K:]
        lengths[i] = len(kept)
        for t, (tm, vals) in enumerate(kept):  # left-aligned: packing masks the rest
            k = len(vs) - len(kept) + t
            for q in range(L):
                if vals[q] is None:
                    seq[i, t, 2 * q + 1] = 1.0
                else:
                    seq[i, t, 2 * q] = (vals[q] - mean[q]) / sd[q]
            seq[i, t, 2 * L] = (tm - vs[k - 1][0]) / sp if k else 0.0
            seq[i, t, 2 * L + 1] = (tm - vs[0][0]) / sf
            seq[i, t, 2 * L + 2] = 1.0
    return torch.tensor(xs), torch.tensor(seq), torch.tensor(lengths)


def train_one(xs, seq, ln, y, idx, args, seed):
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    pos, neg = idx[y[idx] == 1], idx[y[idx] == 0]
    val = np.concatenate([rng.permutation(pos)[:int(round(0.15 * len(pos)))],
                          rng.permutation(neg)[:int(round(0.15 * len(neg)))]])
    tr = np.setdiff1d(idx, val)
    torch.manual_seed(seed)
    m = Twin(xs.shape[1], seq.shape[2], args.hidden, args.head)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=1e-4)
    lossf = nn.BCEWithLogitsLoss()
    yt = torch.tensor(y, dtype=torch.float32)
    best, best_state, bad = float("inf"), None, 0
    for ep in range(args.epochs):
        m.train()
        perm = torch.tensor(tr)[torch.randperm(len(tr), generator=g)]
        for b in range(0, len(perm), 256):
            bi = perm[b:b + 256]
            opt.zero_grad()
            loss = lossf(m(xs[bi], seq[bi], ln[bi]), yt[bi])
            loss.backward()
            opt.step()
        m.eval()
        with torch.no_grad():
            vl = float(lossf(m(xs[val], seq[val], ln[val]), yt[val]))
        if vl < best - 1e-7:
            best, bad = vl, 0
            best_state = {k: v.clone() for k, v in m.state_dict().items()}
        else:
            bad += 1
            if bad >= 10:
                break
    m.load_state_dict(best_state)
    return m


def quality(args):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    torch.set_num_threads(args.threads)
    print("setup: torch %s, torch.set_num_threads(%d), %s" % (torch.__version__, args.threads,
                                                              torch_setup.pools()))
    prow, y, static, labs, seqs = encode(args)
    oof = np.zeros(len(y))
    t0 = time.time()
    for k, (tr, te) in enumerate(StratifiedKFold(5, shuffle=True, random_state=args.seed).split(y, y)):
        xs, seq, ln = fold_tensors(prow, static, labs, seqs, args.K, tr)
        m = train_one(xs, seq, ln, y, tr, args, args.seed + k)
        with torch.no_grad():
            oof[te] = torch.sigmoid(m(xs[te], seq[te], ln[te])).numpy()
    p = np.clip(oof, 1e-7, 1 - 1e-7)
    lg = np.log(p / (1 - p)).reshape(-1, 1)
    slope = LogisticRegression(penalty=None).fit(lg, y).coef_[0][0]
    print("torch-gru auc %.3f brier %.3f calibration_slope %.2f seconds %.1f" %
          (roc_auc_score(y, oof), brier_score_loss(y, oof), slope, time.time() - t0))


def bench(args):
    n, K, F, S = args.n, args.K, args.F, args.S
    g = torch.Generator().manual_seed(1)
    xs = torch.randn(n, S, generator=g)
    seq = torch.randn(n, K, F, generator=g)
    ln = torch.randint(1, K + 1, (n,), generator=g)
    y = (torch.rand(n, generator=g) < 0.3).float()
    out = {}
    for th in torch_setup.THREADS:
        torch.set_num_threads(th)
        torch.manual_seed(1)
        m = Twin(S, F, args.hidden, args.head)
        opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=1e-4)
        lossf = nn.BCEWithLogitsLoss()
        t = time.time()
        for b in range(0, n, 256):
            opt.zero_grad()
            lossf(m(xs[b:b + 256], seq[b:b + 256], ln[b:b + 256]), y[b:b + 256]).backward()
            opt.step()
        tr = n / (time.time() - t)
        # IG: 64 Gauss-Legendre nodes per patient, chunks of 16 patients in one batch
        m.eval()
        npat = min(args.ig_patients, n)
        a, w = np.polynomial.legendre.leggauss(64)
        a = torch.tensor((a + 1) / 2, dtype=torch.float32)
        w = torch.tensor(w / 2, dtype=torch.float32)
        t = time.time()
        for b in range(0, npat, 16):
            e = min(npat, b + 16)
            P = e - b
            al = a.repeat(P)
            xsb = (xs[b:e].repeat_interleave(64, 0) * al[:, None]).requires_grad_(True)
            sqb = (seq[b:e].repeat_interleave(64, 0) * al[:, None, None]).requires_grad_(True)
            f = m(xsb, sqb, ln[b:e].repeat_interleave(64, 0))
            gx, gs = torch.autograd.grad(f.sum(), (xsb, sqb))
            (gx.view(P, 64, -1) * w[None, :, None]).sum(1) * xs[b:e]
            (gs.view(P, 64, K, F) * w[None, :, None, None]).sum(1) * seq[b:e]
        ig = npat / (time.time() - t)
        out[th] = (tr, ig)
    best_tr = max(out, key=lambda t: out[t][0])
    best_ig = max(out, key=lambda t: out[t][1])
    print("setup: torch %s; %s; threads tried %s" % (torch.__version__, torch_setup.pools(),
                                                      sorted(out)))
    print("torch_gru_train_smp_s %.0f (%d threads)" % (out[best_tr][0], best_tr))
    print("torch_gru_ig_pat_s %.1f (%d threads)" % (out[best_ig][1], best_ig))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients")
    ap.add_argument("--visits")
    ap.add_argument("--id", default="id")
    ap.add_argument("--time", default="day")
    ap.add_argument("--target", default="outcome")
    ap.add_argument("--positive", default="1")
    ap.add_argument("--exclude", default="")
    ap.add_argument("--visit-exclude", default="")
    ap.add_argument("--K", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--head", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--F", type=int, default=11)
    ap.add_argument("--S", type=int, default=30)
    ap.add_argument("--ig-patients", type=int, default=2000)
    args = ap.parse_args()
    if args.bench:
        bench(args)
    else:
        quality(args)


if __name__ == "__main__":
    sys.exit(main())
