#!/usr/bin/env python3
"""PyTorch side of the model-variants benchmark (issue #7, docs/benchmarks.md).

Trains the same models as `burnrec compare --models burn-mf,mf,gmf,mlp,neumf,deep-hybrid`
(same sizes, batch sizes, negatives, optimiser and learning rates as burnrec's defaults) on the
same training set (leave-one-out: each user's latest interaction held out, ties to the larger
item id) with PyTorch on the CPU, and prints the median epoch time and samples per second,
both with dense embeddings + Adam and with `nn.Embedding(sparse=True)` + `SparseAdam` (dense
layers keep Adam) — PyTorch's fast path for large tables. An epoch includes drawing the
negatives (uniform among the user's non-interacted items, fresh every epoch), as burnrec's does.

    python3 scripts/torch_variants.py --dataset ml-100k:../shared/datasets/ml-100k \
        --epochs 3 --threads 2 --json docs/results/torch_variants_ml100k.json

Needs numpy and torch (any 2.x; `pip install torch numpy`).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

# ---------------------------------------------------------------- data


def load(spec):
    """(users, items, ratings, timestamps, user feature rows, item feature rows) as arrays of
    dense indices; feature rows are lists of feature indices per user / item (or None)."""
    kind, path = spec.split(":", 1)
    if kind == "ml-100k":
        raw = np.loadtxt(os.path.join(path, "u.data"), dtype=np.int64)
        u_raw, i_raw, r, t = raw[:, 0], raw[:, 1], raw[:, 2].astype(np.float32), raw[:, 3]
    elif kind == "ml-latest-small":
        raw = np.genfromtxt(os.path.join(path, "ratings.csv"), delimiter=",", skip_header=1)
        u_raw, i_raw, r, t = raw[:, 0].astype(np.int64), raw[:, 1].astype(np.int64), raw[:, 2].astype(np.float32), raw[:, 3].astype(np.int64)
    else:
        sys.exit(f"unknown dataset kind {kind!r}: expected ml-100k or ml-latest-small")
    users, u = np.unique(u_raw, return_inverse=True)
    items, i = np.unique(i_raw, return_inverse=True)
    ufeat, ifeat = None, None
    if kind == "ml-100k":
        vocab = {}
        rows = {}
        for line in open(os.path.join(path, "u.user"), encoding="latin-1"):
            uid, age, gender, occ, _ = line.strip().split("|")
            a = int(age)
            bucket = 1 if a < 18 else 18 if a < 25 else 25 if a < 35 else 35 if a < 45 else 45 if a < 50 else 50 if a < 56 else 56
            rows[int(uid)] = [vocab.setdefault(f, len(vocab)) for f in (f"age={bucket}", f"gender={gender}", f"occupation={occ}")]
        ufeat = [rows.get(int(x), []) for x in users]
        rows = {}
        for line in open(os.path.join(path, "u.item"), encoding="latin-1"):
            f = line.rstrip("\n").split("|")
            rows[int(f[0])] = [g for g, flag in enumerate(f[5:24]) if flag == "1"]
        ifeat = [rows.get(int(x), []) for x in items]
    else:
        import csv
        vocab = {}
        rows = {}
        with open(os.path.join(path, "movies.csv"), encoding="utf-8") as fh:
            for rec in csv.DictReader(fh):
                rows[int(rec["movieId"])] = [vocab.setdefault(g, len(vocab)) for g in rec["genres"].split("|") if g != "(no genres listed)"]
        ifeat = [rows.get(int(x), []) for x in items]
    return u.astype(np.int64), i.astype(np.int64), r, t, len(users), len(items), ufeat, ifeat


def leave_one_out_train(u, i, r, t):
    """Training part of leave-one-out: drop each user's latest interaction (ties to the larger
    item index)."""
    order = np.lexsort((i, t, u))  # by user, then time, then item
    last = np.ones(len(u), dtype=bool)
    last[:-1] = u[order][1:] != u[order][:-1]
    keep = np.ones(len(u), dtype=bool)
    keep[order[last]] = False
    return u[keep], i[keep], r[keep]


def padded(rows, width=None):
    """[n, width] feature indices padded with n_features, [n, width] weights 1/|F|."""
    n_feat = max((max(x) for x in rows if x), default=-1) + 1
    width = max(1, max(len(x) for x in rows))
    idx = np.full((len(rows), width), n_feat, dtype=np.int64)
    w = np.zeros((len(rows), width), dtype=np.float32)
    for k, x in enumerate(rows):
        idx[k, : len(x)] = x
        if x:
            w[k, : len(x)] = 1.0 / len(x)
    return n_feat, torch.from_numpy(idx), torch.from_numpy(w)


def negatives(u, n_items, seen, n_neg, rng):
    """`n_neg` uniform negatives per positive among the user's non-interacted items
    (rejection sampling, vectorised)."""
    users = np.repeat(u, n_neg)
    neg = rng.integers(0, n_items, size=len(users))
    bad = seen[users, neg]
    while bad.any():
        neg[bad] = rng.integers(0, n_items, size=int(bad.sum()))
        bad = seen[users, neg]
    return users, neg


# ---------------------------------------------------------------- models


def emb(n, d, sparse, std=0.01):
    e = nn.Embedding(n, d, sparse=sparse)
    nn.init.normal_(e.weight, std=std)
    return e


class BiasedMF(nn.Module):
    """burnrec `burn-mf`: r̂ − μ = b_u + b_i + p_uᵀq_i, MSE + l2 · mean squared norms of the rows used."""

    def __init__(self, nu, ni, d, sparse):
        super().__init__()
        self.p, self.q = emb(nu, d, sparse, 0.05), emb(ni, d, sparse, 0.05)
        self.bu, self.bi = emb(nu, 1, sparse, 0.0), emb(ni, 1, sparse, 0.0)

    def forward(self, u, i):
        pu, qi, bu, bi = self.p(u), self.q(i), self.bu(u), self.bi(i)
        pred = (pu * qi).sum(-1) + bu.squeeze(-1) + bi.squeeze(-1)
        penalty = (pu.square().sum() + qi.square().sum() + bu.square().sum() + bi.square().sum()) / len(u)
        return pred, penalty


class Ncf(nn.Module):
    """burnrec `mf` / `gmf` / `mlp` / `neumf` (He et al. 2017): logits."""

    def __init__(self, kind, nu, ni, factors, layers, sparse):
        super().__init__()
        self.kind = kind
        gmf = kind in ("mf", "gmf", "neumf")
        mlp = kind in ("mlp", "neumf")
        self.gu = emb(nu, factors, sparse) if gmf else None
        self.gi = emb(ni, factors, sparse) if gmf else None
        self.bias = emb(ni, 1, sparse, 0.0) if kind == "mf" else None
        self.mu = emb(nu, layers[0] // 2, sparse) if mlp else None
        self.mi = emb(ni, layers[0] // 2, sparse) if mlp else None
        self.tower = nn.ModuleList([nn.Linear(a, b) for a, b in zip(layers, layers[1:])]) if mlp else nn.ModuleList()
        width = (factors if gmf else 0) + (layers[-1] if mlp else 0)
        self.out = nn.Linear(width, 1) if kind != "mf" else None

    def forward(self, u, i):
        parts = []
        if self.gu is not None:
            parts.append(self.gu(u) * self.gi(i))
        if self.mu is not None:
            h = torch.cat([self.mu(u), self.mi(i)], 1)
            for layer in self.tower:
                h = torch.relu(layer(h))
            parts.append(h)
        h = torch.cat(parts, 1) if len(parts) > 1 else parts[0]
        if self.out is None:
            return h.sum(1) + self.bias(i).squeeze(-1), None
        return self.out(h).squeeze(-1), None


class Bag(nn.Module):
    """Mean of a row's feature embeddings (burnrec's FeatureBag): padding weighted 0."""

    def __init__(self, rows, d):
        super().__init__()
        n_feat, self.idx, self.w = padded(rows)
        self.table = emb(n_feat + 1, d, False)

    def forward(self, rows):
        return (self.table(self.idx[rows]) * self.w[rows].unsqueeze(-1)).sum(1)


class DeepHybrid(nn.Module):
    """burnrec `deep-hybrid`: NeuMF over id + side-feature embeddings, id dropout 0.2,
    tower [64, 32, 16] with dropout 0.1, dim 32; id tables sparse in sparse mode, feature tables
    dense."""

    def __init__(self, nu, ni, ufeat, ifeat, sparse, d=32, layers=(64, 32, 16), dropout=0.1, id_dropout=0.2):
        super().__init__()
        self.uid, self.iid = emb(nu, d, sparse), emb(ni, d, sparse)
        self.ubag = Bag(ufeat, d) if ufeat is not None else None
        self.ibag = Bag(ifeat, d) if ifeat is not None else None
        width = d * (2 + (self.ubag is not None) + (self.ibag is not None))
        self.tower = nn.ModuleList()
        for w in layers:
            self.tower.append(nn.Linear(width, w))
            width = w
        self.drop = nn.Dropout(dropout)
        self.id_dropout = id_dropout
        self.out = nn.Linear(d + width, 1)

    def ids(self, table, rows):
        e = table(rows)
        if self.training and self.id_dropout > 0:
            e = e * torch.bernoulli(torch.full((len(rows), 1), 1.0 - self.id_dropout))
        return e

    def forward(self, u, i):
        eu, ei = self.ids(self.uid, u), self.ids(self.iid, i)
        fu = self.ubag(u) if self.ubag is not None else None
        fi = self.ibag(i) if self.ibag is not None else None
        gu = eu + fu if fu is not None else eu
        gi = ei + fi if fi is not None else ei
        h = torch.cat([x for x in (eu, fu, ei, fi) if x is not None], 1)
        for layer in self.tower:
            h = self.drop(torch.relu(layer(h)))
        return self.out(torch.cat([gu * gi, h], 1)).squeeze(-1), None


# ---------------------------------------------------------------- training

# burnrec's defaults: (batch size in samples, learning rate, l2, negatives per positive)
SETTINGS = {
    "burn-mf": (1024, 0.005, 0.1, 0),
    "mf": (256, 0.001, 0.0, 4),
    "gmf": (256, 0.001, 0.0, 4),
    "mlp": (256, 0.001, 0.0, 4),
    "neumf": (256, 0.001, 0.0, 4),
    "deep-hybrid": (256, 0.001, 0.0, 4),
}


def build(name, nu, ni, ufeat, ifeat, sparse):
    if name == "burn-mf":
        return BiasedMF(nu, ni, 64, sparse)
    if name == "deep-hybrid":
        return DeepHybrid(nu, ni, ufeat, ifeat, sparse)
    return Ncf(name, nu, ni, 8, [64, 32, 16, 8], sparse)


def optimisers(model, lr, sparse):
    if not sparse:
        return [torch.optim.Adam(model.parameters(), lr=lr)]
    emb_params = [m.weight for m in model.modules() if isinstance(m, nn.Embedding) and m.sparse]
    ids = {id(p) for p in emb_params}
    dense = [p for p in model.parameters() if id(p) not in ids]
    opts = [torch.optim.SparseAdam(emb_params, lr=lr)]
    if dense:
        opts.append(torch.optim.Adam(dense, lr=lr))
    return opts


def run(name, mode, data, epochs, seed):
    u, i, r, nu, ni, ufeat, ifeat = data
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    sparse = mode == "sparse"
    model = build(name, nu, ni, ufeat, ifeat, sparse)
    model.train()
    batch, lr, l2, n_neg = SETTINGS[name]
    opts = optimisers(model, lr, sparse)
    seen = np.zeros((nu, ni), dtype=bool)
    seen[u, i] = True
    mu = float(r.mean())
    times, rates = [], []
    for _ in range(epochs):
        start = time.perf_counter()
        if n_neg == 0:
            eu, ei, y = u, i, r - mu
        else:
            nu_, ni_ = negatives(u, ni, seen, n_neg, rng)
            eu = np.concatenate([u, nu_])
            ei = np.concatenate([i, ni_])
            y = np.concatenate([np.ones(len(u), np.float32), np.zeros(len(nu_), np.float32)])
        perm = rng.permutation(len(eu))
        tu, ti, ty = torch.from_numpy(eu[perm]), torch.from_numpy(ei[perm]), torch.from_numpy(y[perm].astype(np.float32))
        for s in range(0, len(perm), batch):
            bu, bi, by = tu[s : s + batch], ti[s : s + batch], ty[s : s + batch]
            out, penalty = model(bu, bi)
            if n_neg == 0:
                loss = (out - by).square().mean() + l2 * penalty
            else:
                loss = nn.functional.binary_cross_entropy_with_logits(out, by)
            for o in opts:
                o.zero_grad()
            loss.backward()
            for o in opts:
                o.step()
        seconds = time.perf_counter() - start
        times.append(seconds)
        rates.append(len(perm) / seconds)
    timed = (times[1:], rates[1:]) if epochs > 1 else (times, rates)
    return float(np.median(timed[0])), float(np.median(timed[1])), len(perm)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", required=True, help="ml-100k:DIR or ml-latest-small:DIR")
    ap.add_argument("--models", default="burn-mf,mf,gmf,mlp,neumf,deep-hybrid")
    ap.add_argument("--modes", default="dense,sparse")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per run; the median leaves out the first")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write the rows to this file")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    u, i, r, t, nu, ni, ufeat, ifeat = load(a.dataset)
    u, i, r = leave_one_out_train(u, i, r, t)
    data = (u, i, r, nu, ni, ufeat, ifeat)
    rows = []
    print(f"{a.dataset}: {nu} users, {ni} items, {len(u)} training interactions; torch {torch.__version__}, {a.threads} threads")
    for name in a.models.split(","):
        for mode in a.modes.split(","):
            epoch_s, rate, samples = run(name, mode, data, a.epochs, a.seed)
            row = {"dataset": a.dataset.split(":")[0], "model": name, "mode": mode, "epoch_s": epoch_s, "samples_per_s": rate, "samples": samples, "threads": a.threads, "torch": torch.__version__}
            rows.append(row)
            print(f"{name:12} {mode:7} {epoch_s:8.3f} s/epoch {rate:12.0f} samples/s", flush=True)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=2)
            fh.write("\n")


if __name__ == "__main__":
    main()
