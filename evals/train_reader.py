"""Train the answer reader studied by study_reader.py: a cross-encoder fine-tuned from the packaged MiniLM.

    .venv/bin/python evals/train_reader.py pairs   # build index/.train/reader_pairs.jsonl from the archives
    .venv/bin/python evals/train_reader.py train   # fine-tune on it, export index/.train/reader.onnx (int8)

The pairs come from the archives' sentences (see ``reader_pairs``), never from a question set. The
starting weights are the packaged all-MiniLM-L6-v2 (the encoder newsdesk already ships); a one-output
head on its first token is added and the whole model is trained for one pass with binary
cross-entropy. Everything random is seeded and the model runs in one thread order, so the same pairs
and the same packages give the same weights.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "evals"))
for key, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("ANONYMIZED_TELEMETRY", "False")):
    os.environ.setdefault(key, value)

from reader_pairs import Pair, build_pairs, read_articles  # noqa: E402

DATA = ROOT / "tests" / "data"
ARCHIVES = (
    ROOT / "seeds" / "000_1188ee5dcc83ef1c.txt",
    DATA / "horne2017" / "articles.jsonl",
    DATA / "fakenewscorpus-sample" / "news_sample.csv",
)
WORK = ROOT / "index" / ".train"  # git-ignored: the pairs are rebuilt from the archives in seconds
PAIRS = WORK / "reader_pairs.jsonl"
MODEL = WORK / "reader.onnx"
MAX_LENGTH = 128
BATCH = 16
RATE = 4e-5
WARMUP = 0.1
SEED = 0


def write_pairs(pairs: list[Pair], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for p in pairs:
            out.write(json.dumps({"question": p.question, "sentence": p.sentence, "label": p.label, "how": p.how,
                                  "article_id": p.article_id, "answer": p.answer}, ensure_ascii=False) + "\n")


def read_pairs(path: Path) -> list[tuple[str, str, int]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["question"], r["sentence"], int(r["label"])) for r in rows]


def train(pairs: list[tuple[str, str, int]], out: Path, epochs: int = 1, limit: int | None = None) -> dict[str, object]:
    """Fine-tune the packaged MiniLM on ``pairs`` and write the int8 ONNX model to ``out``."""
    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from assistant.embedding import resolve_model

    hf_logging.set_verbosity_error()
    torch.manual_seed(SEED)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(int(os.environ.get("NEWSDESK_TRAIN_THREADS", "2")))
    _, model_dir = resolve_model("")
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=1, local_files_only=True, attn_implementation="eager"
    )
    order = list(range(len(pairs)))
    rows = pairs if limit is None else pairs[:limit]
    steps = epochs * ((len(rows) + BATCH - 1) // BATCH)
    optimiser = torch.optim.AdamW(model.parameters(), lr=RATE, weight_decay=0.01)
    warm = max(1, int(steps * WARMUP))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    started, step, seen = time.perf_counter(), 0, 0
    rng = random.Random(SEED)
    for _ in range(epochs):
        order = list(range(len(rows)))
        rng.shuffle(order)
        for at in range(0, len(order), BATCH):
            batch = [rows[i] for i in order[at : at + BATCH]]
            enc = tokenizer([q for q, _, _ in batch], [s for _, s, _ in batch], padding=True, truncation="only_second",
                            max_length=MAX_LENGTH, return_tensors="pt")
            labels = torch.tensor([float(y) for _, _, y in batch])
            logits = model(**enc).logits.squeeze(-1)
            loss = loss_fn(logits, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            seen += len(batch)
            if step % 25 == 0:
                rate = seen / (time.perf_counter() - started)
                print(f"step {step}/{steps} loss {loss.item():.4f} ({rate:.1f} pairs/s)", flush=True)
    seconds = time.perf_counter() - started
    model.eval()
    export(model, tokenizer, out)
    return {"pairs": len(rows), "epochs": epochs, "train_seconds": round(seconds, 1)}


def export(model: object, tokenizer: object, out: Path) -> None:
    """The classifier as ONNX (inputs ids/mask/types, output one logit per pair), weights quantised to int8."""
    import tempfile
    import warnings

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    sample = tokenizer(["who said it?", "when?"], ["a sentence to trace the model with", "another"],  # type: ignore[operator]
                       padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]

    class Logit(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).logits  # type: ignore[operator]

    with tempfile.TemporaryDirectory() as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fp32 = Path(tmp) / "reader-fp32.onnx"
        torch.onnx.export(Logit(), tuple(sample[n] for n in names), str(fp32), input_names=names, output_names=["logit"],
                          dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "logit": {0: "batch"}},
                          opset_version=17, do_constant_folding=True, dynamo=False)
        # the word embeddings (Gather) too: 47 MB of the 58 MB left in float otherwise
        quantize_dynamic(str(fp32), str(out), per_channel=True, op_types_to_quantize=["MatMul", "Gather"],
                         weight_type=QuantType.QInt8)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["pairs", "train"])
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--out", type=Path, default=MODEL)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N pairs only (a quick check)")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.step == "pairs":
        pairs = build_pairs(read_articles(ARCHIVES), seed=SEED)
        write_pairs(pairs, args.pairs)
        counts: dict[str, int] = {}
        for p in pairs:
            counts[p.how] = counts.get(p.how, 0) + 1
        print(f"{len(pairs)} pairs → {args.pairs}: {counts}")
        return
    rows = read_pairs(args.pairs)
    record = train(rows, args.out, epochs=args.epochs, limit=args.limit)
    record.update({"pairs_sha256": digest(args.pairs), "model_sha256": digest(args.out), "max_length": MAX_LENGTH,
                   "batch": BATCH, "rate": RATE, "seed": SEED})
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
