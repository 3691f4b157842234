#!/usr/bin/env python3
"""Reference sentence embeddings from the Python `sentence-transformers` library, for
crates/burnrec-text/tests/reference.rs (burnrec's Burn encoder must match them).

Run once, in a venv with the reference implementation (CPU only; nothing is downloaded: the
model is read from the local folder):

    python3 -m venv /tmp/st-venv
    /tmp/st-venv/bin/pip install torch sentence-transformers
    /tmp/st-venv/bin/python scripts/encoder_reference.py ../shared/models/all-MiniLM-L6-v2 \
        crates/burnrec-text/tests/data/minilm_reference.json

Writes the texts, their token ids (as the reference tokenises them), the embeddings
(float32, as `SentenceTransformer.encode` returns them: mean pooling, L2-normalised) and the
versions that made them.
"""
import hashlib
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import sentence_transformers  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

LONG = " ".join(
    f"Film {i} is a story about a recommender system that learns what people like to watch next."
    for i in range(40)
)  # ~700 tokens: truncated to max_seq_length (256)

TEXTS = [
    "Toy Story (1995) Animation|Children's|Comedy",
    "GoldenEye (1995) Action|Adventure|Thriller",
    "Four Rooms (1995) Thriller",
    "Get Shorty (1995) Action|Comedy|Drama",
    "Copycat (1995) Crime|Drama|Thriller",
    "Shanghai Triad (Yao a yao yao dao waipo qiao) (1995) Drama",
    "Twelve Monkeys (1995) Drama|Sci-Fi",
    "Babe (1995) Children's|Comedy|Drama",
    "Dead Man Walking (1995) Drama",
    "Richard III (1995) Drama|War",
    "a",
    "",
    "   ",
    "!!!",
    "12345 67890",
    "The quick brown fox jumps over the lazy dog.",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG.",
    "Amélie (Le Fabuleux destin d'Amélie Poulain) (2001) Comedy|Romance",
    "Crouching Tiger, Hidden Dragon (Wo hu cang long) (2000) Action|Drama",
    "千と千尋の神隠し (Spirited Away, 2001)",
    "Москва слезам не верит (1980) Drama|Romance",
    "Das Leben der Anderen — ein Film über Überwachung in Ost-Berlin",
    "¿Dónde está la biblioteca? Ça va très bien, merci.",
    "Emoji test 🎬🍿 movie night",
    "naïve café résumé coöperate",
    "A man, a plan, a canal: Panama",
    "Star Wars: Episode IV - A New Hope (1977) Action|Adventure|Sci-Fi",
    "Pulp Fiction (1994) Comedy|Crime|Drama|Thriller",
    "tab\tseparated\tand\nnew\nlines",
    LONG,
]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    folder, out = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    model = SentenceTransformer(folder, device="cpu")
    emb = model.encode(TEXTS, batch_size=32, convert_to_numpy=True)
    tok = model.tokenizer
    ids = [tok(t, truncation=True, max_length=model.max_seq_length)["input_ids"] for t in TEXTS]
    doc = {
        "made_by": "scripts/encoder_reference.py",
        "model": os.path.basename(os.path.normpath(folder)),
        "model_safetensors_sha256": sha256(os.path.join(folder, "model.safetensors")),
        "max_seq_length": model.max_seq_length,
        "versions": {
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "torch": torch.__version__,
        },
        "texts": TEXTS,
        "token_ids": ids,
        "embeddings": [[float(x) for x in row] for row in emb.astype("float32")],
    }
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
        f.write("\n")
    print(f"{out}: {len(TEXTS)} texts, dim {emb.shape[1]}, longest {max(map(len, ids))} tokens")


if __name__ == "__main__":
    main()
