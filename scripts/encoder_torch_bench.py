#!/usr/bin/env python3
"""Sentence-encoder throughput of the reference implementation, for the side-by-side with
`burnrec bench encoder` (docs/benchmarks.md): `sentence-transformers` on PyTorch CPU encodes
the same item texts with the same batch size and thread count.

The texts are read from a `burnrec embed` output (.safetensors metadata `texts`), so both
sides encode exactly the same strings:

    burnrec embed --dataset bundled --encoder ENC --out /tmp/items.safetensors
    python3 scripts/encoder_torch_bench.py ENC /tmp/items.safetensors --threads 2 --batch-size 32

Like burnrec, `SentenceTransformer.encode` sorts the texts by length and pads each batch to
its longest text. One untimed warm-up batch, then `--repeats` timed passes; the median is
printed as one JSON object.
"""
import argparse
import json
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import safetensors  # noqa: E402
import sentence_transformers  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("encoder")
    ap.add_argument("embed_output", help="a .safetensors file written by `burnrec embed`")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--limit", type=int, default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    with safetensors.safe_open(a.embed_output, "np") as f:
        texts = json.loads(f.metadata()["texts"])
    if a.limit:
        texts = texts[: a.limit]
    model = SentenceTransformer(a.encoder, device="cpu")
    model.encode(texts[: a.batch_size], batch_size=a.batch_size)
    times = []
    with torch.inference_mode():
        for _ in range(a.repeats):
            t = time.perf_counter()
            model.encode(texts, batch_size=a.batch_size, convert_to_numpy=True)
            times.append(time.perf_counter() - t)
    pass_s = statistics.median(times)
    print(json.dumps({
        "peer": f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}",
        "threads": a.threads,
        "batch_size": a.batch_size,
        "texts": len(texts),
        "pass_s": pass_s,
        "texts_per_s": len(texts) / pass_s,
    }))


if __name__ == "__main__":
    main()
