"""Sentence VAEs on WordNet glosses (issue 25): the language model, the plain VAE, each remedy for posterior collapse
and the best combination under the same CPU budget, evaluated by He et al. 2019's protocol; and the training speed of
vaekit's LSTM VAE against a plain PyTorch loop of the same model and batch.

    VAEKIT_DATA=../shared/data python benchmarks/text.py --out text.json                # the full run, 30-35 min
    python benchmarks/text.py --quick                                                    # a smoke test, ~1 min
    python benchmarks/text.py --train ptb.train.txt --test ptb.test.txt                  # PTB, Yahoo, Yelp files
    python benchmarks/text.py --models lm vae bn best --budget-minutes 5 --skip-speed    # a selection

Data: word level, lowercased, a vocabulary of the 10,000 most frequent training tokens (its 4 specials included),
rows cut at 40 tokens (<eos> included: 99 % of glosses are shorter). `--train-sentences` (default 8000) training
sentences drawn at random (seed 0) from the training file, and `--limit` (default 100) test sentences drawn at random
from the test file, are written to <runs>/corpus as train.txt and test.txt: every model trains on the same sentences,
is tested on the same ones after each epoch (its KL, MI and AU curves) and evaluated on them at the end.

The budget. Issue 25 asks for 30 CPU minutes per model; this session's machine (2 cores, shared) gives the whole
benchmark about 35 minutes, so each model gets `--budget-minutes` (default 2) of training, counted in whole epochs:
- the plain VAE trains one epoch, which fixes E, the whole epochs (training + test pass) that fit in the budget, and
  is resumed to E (vaekit.resume continues exactly); every VAE whose epoch costs what the plain VAE's does (the
  remedies that change the objective, the posterior or the decoder's inputs) trains those E epochs, so their
  schedules can be set from E: the warm-up over the first E/2, the cyclical schedule over all E, pretraining for
  the first E // 2;
- the language model (no encoder: cheaper epochs) and the aggressive VAE (inner updates: dearer ones) each measure
  their own first epoch the same way (benchmarks/budget.py). He et al. allow up to 100 inner updates of the encoder
  per step (vaekit's default, train.aggressive_max_steps=100; at least 30 before its stopping rule can act), so that
  one epoch costs 30-100 plain epochs: here the aggressive VAE gets at most E - 1 inner updates per step, so that its
  first epoch costs about the budget (it trains one epoch where the others train E).
The training sentences are a subset so that an epoch is a fraction of the budget (58 s with one thread on the 2-core
machine under other load, 2026-12-07; predicted 25-35 s idle with two, so E = 3-4): whole epochs, and with them the
schedules and resuming, stay meaningful. The whole run is predicted at 30-35 minutes: 10 models x 2 minutes, 9
evaluations at K = 500 of 100 sentences (about 100 s each measured under that load, predicted 40-65 s idle; the
language model's exact NLL is one pass), and the speed comparison (2 rounds of four 250-step epochs, 4-7 minutes).
The table gives each model's epochs, steps and training seconds. The model: LSTM, 128-dimensional embeddings, 256
units, 32 latents (He et al. 2019 use 512, 1024 and 32: too slow for two cores), batch 32, Adam 1e-3.

The models (MODELS): `lm` the language model (model.type=lm, the same decoder without z); `vae` the plain VAE;
`anneal` KL warm-up linear from 0.1 (He et al. 2019); `cyclical` (Fu et al. 2019, M = 4, R = 0.5, over the run);
`word-dropout` 0.25 (Bowman et al. 2016); `free-bits` 0.5 nats per dimension (Kingma et al. 2016); `pretrain-fb`
autoencoder pretraining, then a fresh decoder with free bits 0.5 (Li et al. 2019); `aggressive` inference-network
updates (He et al. 2019); `bn` BN-VAE, gamma 0.6 (Zhu et al. 2020); and `best`, BN-VAE with the warm-up from 0.1.
Why that combination: under a fixed budget the remedies that cost nothing per step and discard no training are
the ones to combine. BN-VAE keeps every latent dimension's KL above gamma^2 / 2 from the first step, so the decoder
learns to read z while it learns the language (Zhu et al. 2020 report it at or below the aggressive VAE's NLL at the
cost of a plain VAE); the warm-up from 0.1 is He et al.'s schedule for all their VAEs. Pretraining spends half the
budget on a decoder it then discards, and aggressive updates spend it on inner steps.

Evaluation (vaekit.workflow.evaluation.evaluate_run, as `vaekit evaluate`): NLL in nats per sentence by importance
sampling with K = `--iw-samples` (500, He et al.'s), exact for the language model; perplexity exp(total NLL / total
tokens) with <eos> counted; KL; I(x; z) (He et al.'s aggregate-posterior estimator over the test sentences); active
units (Cov_x E[z_d | x] > 0.01).

The speed comparison (`--skip-speed` leaves it out): one epoch of the same training sentences (a few hundred steps
of `--batch-size`), timed four ways in one process with the same threads: vaekit's VAE with batches bucketed by
length (data.bucket=true, the default), vaekit with random batches (data.bucket=false), and PlainVae, the same LSTM
VAE written as a plain PyTorch loop (embedding + LSTM encoder, Gaussian posterior, LSTM decoder whose initial state
is a linear map of z and which reads z at every step, cross entropy, torch.optim.Adam), its batches padded to their
longest row, random and bucketed. Tokens per second count each sentence's tokens and <eos>, never <pad>; the padding
share is <pad> / all positions of the batches as run (vaekit packs its sequences, so its recurrent steps and softmax
skip the <pad> positions; the plain loop computes them). The four run in turn, `--speed-repeats` rounds (default 2),
and each loop's fastest round is reported (a shared machine's load drifts); each records the CPU other processes took.

Threads: `--threads` (default 2, the machine's cores) for everything. Run on an idle machine: with 2 OpenMP threads on
2 cores any other busy process slows both threads (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
import vaekit  # noqa: E402
from budget import train_for_budget  # noqa: E402
from machine import machine_info  # noqa: E402
from train_speed import CpuMonitor  # noqa: E402
from vaekit.data.sequences import BucketBatches, lengths_of, padding_share  # noqa: E402
from vaekit.train.distributed import seeded_generator  # noqa: E402
from vaekit.workflow.data import load_run_data  # noqa: E402
from vaekit.workflow.evaluation import evaluate_run  # noqa: E402


@dataclass(frozen=True)
class Size:
    embedding: int
    hidden: int
    latent: int
    vocabulary: int
    batch: int


FULL = Size(embedding=128, hidden=256, latent=32, vocabulary=10_000, batch=32)
QUICK = Size(embedding=32, hidden=64, latent=8, vocabulary=1000, batch=16)
MAX_LENGTH = 40  # tokens of a row, <eos> included


@dataclass(frozen=True)
class Model:
    what: str
    overrides: Callable[[int], list[str]]  # E (the plain VAE's epochs in the budget) -> config overrides
    own_budget: bool = False  # epochs from its own first epoch (its epochs cost other than the plain VAE's)
    lm: bool = False


MODELS = {
    "lm": Model("language model (no z)", lambda e: [], own_budget=True, lm=True),
    "vae": Model("plain VAE", lambda e: [], own_budget=True),
    "anneal": Model(
        "KL warm-up, linear from 0.1 over the first E/2 epochs",
        lambda e: ["objective.warmup_start=0.1", f"objective.warmup_epochs={e / 2}"],
    ),
    "cyclical": Model(
        "cyclical KL annealing, M = 4, R = 0.5 over the E epochs",
        lambda e: [
            "objective.warmup_schedule=cyclical",
            "objective.warmup_cycles=4",
            "objective.warmup_cycle_ratio=0.5",
            f"objective.warmup_epochs={e}",
        ],
    ),
    "word-dropout": Model("word dropout 0.25", lambda e: ["model.likelihood.word_dropout=0.25"]),
    "free-bits": Model("free bits 0.5 nats per dimension", lambda e: ["objective.free_bits=0.5"]),
    "pretrain-fb": Model(
        "autoencoder for E // 2 epochs, then a fresh decoder with free bits 0.5",
        lambda e: [f"objective.pretrain_epochs={max(1, e // 2)}", "objective.free_bits=0.5"],
    ),
    "aggressive": Model(
        "aggressive inference-network updates, at most E - 1 inner steps per step",
        lambda e: ["train.aggressive=true", f"train.aggressive_max_steps={max(2, e)}"],
        own_budget=True,
    ),
    "bn": Model("BN-VAE, gamma 0.6", lambda e: ["model.posterior_bn_gamma=0.6"]),
    "best": Model(
        "BN-VAE gamma 0.6 + warm-up from 0.1 over E/2",
        lambda e: ["model.posterior_bn_gamma=0.6", "objective.warmup_start=0.1", f"objective.warmup_epochs={e / 2}"],
    ),
}


# ---------------------------------------------------------------------------------------------------------------
# Data and configs


def read_text(path: Path) -> list[str]:
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    return [ln for ln in lines if ln]


def write_corpus(train: Path, test: Path, train_sentences: int, limit: int, folder: Path) -> dict:
    """`train_sentences` random training lines (all: 0) and `limit` random test lines, as folder/train.txt, test.txt."""
    rng = random.Random(0)
    train_lines, test_lines = read_text(train), read_text(test)
    if train_sentences and train_sentences < len(train_lines):
        train_lines = rng.sample(train_lines, train_sentences)
    if limit < len(test_lines):
        test_lines = rng.sample(test_lines, limit)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.txt").write_text("\n".join(train_lines) + "\n", encoding="utf-8")
    (folder / "test.txt").write_text("\n".join(test_lines) + "\n", encoding="utf-8")
    counts = {"train_sentences": len(train_lines), "test_sentences": len(test_lines)}
    return {"train": str(train), "test": str(test), **counts}


def base_overrides(corpus: Path, size: Size, lm: bool) -> list[str]:
    data = [
        f"data.source={corpus}",
        "data.kind=sequence",
        "data.tokenizer=word",
        "data.lowercase=true",
        f"data.vocab_size={size.vocabulary}",
        f"data.max_length={MAX_LENGTH}",
    ]
    model = [
        f"model.type={'lm' if lm else 'vae'}",
        "model.network.type=recurrent",
        "model.network.cell=lstm",
        f"model.network.embedding_dim={size.embedding}",
        f"model.network.hidden=[{size.hidden}]",
        "model.likelihood.type=tokens",
        *([] if lm else [f"model.latent_dim={size.latent}"]),
    ]
    train = [f"train.batch_size={size.batch}", "train.lr=0.001", "train.progress=false", "train.num_sample_images=10"]
    return [*data, *model, *train]


def epoch_seconds(run: vaekit.Run) -> float:
    first = run.metrics()[0]
    return first["train_seconds"] + first["test_seconds"]


# ---------------------------------------------------------------------------------------------------------------
# The NLL table


def train_models(args, size: Size, corpus: Path, runs: Path) -> list[dict]:
    budget = args.budget_minutes * 60
    rows, known = [], {}

    def reference_epochs() -> int:
        """E: the plain VAE's whole epochs in the budget (its first epoch measured, here or by its own row)."""
        if "E" not in known:
            calibration, _, _ = train_for_budget(
                None, [*base_overrides(corpus, size, False), "train.epochs=1"], runs / "calibration", 1.0, "E"
            )
            known["E"] = max(1, math.floor(budget / epoch_seconds(calibration)))
        return known["E"]

    names = list(dict.fromkeys(n for n in ("vae", *MODELS) if n in args.models))  # the plain VAE first: it fixes E
    for name in names:
        model = MODELS[name]
        start = time.perf_counter()
        log = lambda msg, name=name: print(f"[{name}] {msg}", flush=True)  # noqa: E731
        if model.own_budget:
            extra = model.overrides(reference_epochs()) if name not in ("vae", "lm") else model.overrides(0)
            overrides = [*base_overrides(corpus, size, model.lm), *extra]
            run, epochs, _ = train_for_budget(None, overrides, runs / name, budget, name)
            if name == "vae":
                known["E"] = epochs
        else:
            epochs = max(2, reference_epochs())  # pretraining needs an epoch of each phase
            overrides = [*base_overrides(corpus, size, False), *model.overrides(epochs), f"train.epochs={epochs}"]
            config = vaekit.load_config(overrides=overrides)
            run = vaekit.train(config, runs / name, force=True, log=log)
        wall_train = time.perf_counter() - start
        metrics = run.metrics()
        report = evaluate_run(run, iw_samples=args.iw_samples, batch_size=args.eval_batch_size)
        row = {
            "model": name,
            "what": model.what,
            "epochs": metrics[-1]["epoch"],
            "steps": metrics[-1]["step"],
            "train_seconds": sum(m["train_seconds"] for m in metrics),
            "test_seconds": sum(m["test_seconds"] for m in metrics),
            "wall_seconds": wall_train,
            "eval_seconds": report["seconds"],
            "nll": report["nll"],
            "nll_exact": report["nll_exact"],
            "perplexity": report["perplexity"],
            "tokens": report["tokens"],
            "kl": report.get("kl"),
            "mi": report.get("mi"),
            "active_units": report.get("active_units"),
            "elbo": report.get("elbo"),
            "overrides": overrides,
        }
        rows.append(row)
        print(
            f"[{name}] {row['epochs']} epochs, {row['steps']} steps, {row['train_seconds']:.0f} s training; NLL "
            f"{row['nll']:.2f} ({'exact' if row['nll_exact'] else f'IW K={args.iw_samples}'}), PPL "
            f"{row['perplexity']:.1f}, evaluated in {row['eval_seconds']:.1f} s",
            flush=True,
        )
    return rows


def _num(v, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def nll_table(rows: list[dict], iw_samples: int) -> str:
    head = (
        f"| model | | epochs | steps | train s | NLL (IW K = {iw_samples}), nats | PPL | KL | MI | AU | eval s |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        nll = f"{r['nll']:.2f}" + (" (exact)" if r["nll_exact"] else "")
        kl, mi, au = (None, None, None) if r["nll_exact"] else (r["kl"], r["mi"], r["active_units"])  # LM: no z
        lines.append(
            f"| {r['model']} | {r['what']} | {r['epochs']} | {r['steps']} | {r['train_seconds']:.0f} | {nll} | "
            f"{r['perplexity']:.1f} | {_num(kl, '.2f')} | {_num(mi, '.2f')} | {_num(au, 'd')} | "
            f"{r['eval_seconds']:.0f} |"
        )
    return head + "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# The speed comparison


class PlainVae(nn.Module):
    """The LSTM sentence VAE written plainly: the floor vaekit's training step is measured against."""

    def __init__(self, vocab: int, size: Size) -> None:
        super().__init__()
        e, h, d = size.embedding, size.hidden, size.latent
        self.enc_embed = nn.Embedding(vocab, e, padding_idx=0)
        self.encoder = nn.LSTM(e, h, batch_first=True)
        self.posterior = nn.Linear(h, 2 * d)
        self.dec_embed = nn.Embedding(vocab, e, padding_idx=0)
        self.decoder = nn.LSTM(e + d, h, batch_first=True)
        self.initial = nn.Linear(d, h, bias=False)
        self.output = nn.Linear(h, vocab)

    def forward(self, x: torch.Tensor, bos: int) -> torch.Tensor:
        """x (B, T) int64, <pad> 0 after each row's tokens and <eos> -> the batch's mean -ELBO (nats per sentence)."""
        b, t = x.shape
        lengths = (x != 0).sum(-1)  # (B,)
        out, _ = self.encoder(self.enc_embed(x))  # (B, T, H), padded positions computed too
        mu, log_var = self.posterior(out[torch.arange(b), lengths - 1]).chunk(2, -1)  # (B, D) each
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        inputs = torch.cat([torch.full_like(x[:, :1], bos), x[:, :-1]], 1)  # (B, T)
        u = torch.cat([self.dec_embed(inputs), z.unsqueeze(1).expand(b, t, z.shape[-1])], -1)  # (B, T, E + D)
        c0 = self.initial(z).unsqueeze(0)  # (1, B, H)
        out, _ = self.decoder(u, (torch.tanh(c0), c0))  # (B, T, H)
        logits = self.output(out)  # (B, T, V)
        nll = nn.functional.cross_entropy(logits.reshape(b * t, -1), x.reshape(-1), ignore_index=0, reduction="sum")
        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum()
        return (nll + kl) / b


def plain_batches(lengths: torch.Tensor, batch: int, bucket: bool, g: torch.Generator) -> list[torch.Tensor]:
    """Random batches; bucketed: chunks of 50 batches sorted by length, the batches then shuffled."""
    order = torch.randperm(len(lengths), generator=g)
    if not bucket:
        return list(order.split(batch))
    pieces = []
    for part in order.split(50 * batch):
        pieces.extend(part[torch.argsort(lengths[part], stable=True)].split(batch))
    return [pieces[i] for i in torch.randperm(len(pieces), generator=g).tolist()]


def time_plain(x: torch.Tensor, vocab: int, size: Size, bucket: bool, bos: int) -> dict:
    torch.manual_seed(0)
    model = PlainVae(vocab, size)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    lengths = lengths_of(x)
    batches = plain_batches(lengths, size.batch, bucket, torch.Generator().manual_seed(0))
    with CpuMonitor() as monitor:
        for idx in batches:
            xb = x[idx]
            xb = xb[:, : int(lengths[idx].max())]  # padded to the batch's longest row
            loss = model(xb, bos)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return {
        "seconds": monitor.wall,
        "steps": len(batches),
        "tokens": int(lengths.sum()),
        "padding_share": padding_share(lengths, batches),
        **monitor.summary(),
    }


def time_vaekit(corpus: Path, size: Size, bucket: bool, out: Path) -> tuple[dict, vaekit.Run]:
    overrides = [*base_overrides(corpus, size, False), "train.epochs=1", f"data.bucket={str(bucket).lower()}"]
    config = vaekit.load_config(overrides=overrides)
    with CpuMonitor() as monitor:
        run = vaekit.train(config, out, force=True)
    data = load_run_data(run.config, "cpu", run.spec)
    lengths = lengths_of(data.train_x)
    g = seeded_generator(torch.device("cpu"), config.train.seed, 1, 0)  # the first epoch's shuffling (workflow.fit)
    order = torch.randperm(len(lengths), generator=g)
    plan = BucketBatches(lengths, bucket).plan(order, size.batch, g)
    first = run.metrics()[0]
    result = {
        "seconds": first["train_seconds"],
        "steps": first["step"],
        "tokens": int(lengths.sum()),
        "padding_share": padding_share(lengths, plan),
        "wall_seconds_whole_run": monitor.wall,
        **monitor.summary(),
    }
    return result, run


def speed(size: Size, corpus: Path, runs: Path, repeats: int) -> list[dict]:
    """The four loops in turn, `repeats` rounds (the load of a shared machine drifts): each loop's fastest round."""
    rounds: dict[str, list[dict]] = {}
    for _ in range(repeats):
        bucketed, run = time_vaekit(corpus, size, True, runs / "speed-bucketed")
        unbucketed, _ = time_vaekit(corpus, size, False, runs / "speed-random")
        x = load_run_data(run.config, "cpu", run.spec).train_x  # (N, T): the same sentences, ids and vocabulary
        bos = run.spec.vocabulary.bos_id
        timed = {
            "vaekit, bucketed by length (data.bucket=true)": bucketed,
            "vaekit, random batches (data.bucket=false)": unbucketed,
            "plain PyTorch, random batches": time_plain(x, run.spec.levels, size, False, bos),
            "plain PyTorch, bucketed by length": time_plain(x, run.spec.levels, size, True, bos),
        }
        for loop, result in timed.items():
            rounds.setdefault(loop, []).append(result)
    rows = []
    for loop, results in rounds.items():
        best = min(results, key=lambda r: r["seconds"])
        row = {"loop": loop, **best, "seconds_each_round": [r["seconds"] for r in results]}
        row["tokens_per_second"] = row["tokens"] / row["seconds"]
        rows.append(row)
        print(
            f"[speed] {loop}: {row['tokens_per_second']:.0f} tokens/s ({row['steps']} steps, rounds "
            f"{', '.join(f'{s:.1f}' for s in row['seconds_each_round'])} s, padding {row['padding_share']:.1%})",
            flush=True,
        )
    return rows


def speed_table(rows: list[dict]) -> str:
    floor = next(r for r in rows if r["loop"].startswith("plain PyTorch, random"))["tokens_per_second"]
    head = (
        "| training loop | steps | tokens/s | vs the plain loop (random batches) | padding share | other CPU, cores |\n"
        "|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['loop']} | {r['steps']} | {r['tokens_per_second']:.0f} | {r['tokens_per_second'] / floor:.2f}x | "
        f"{r['padding_share']:.1%} | {_num(r['foreign_cores_busy'], '.2f')} |"
        for r in rows
    ]
    return head + "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    glosses = Path(os.environ.get("VAEKIT_DATA", "../shared/data")) / "wordnet_glosses"
    parser.add_argument("--train", type=Path, default=glosses / "train.txt", help="one sentence a line")
    parser.add_argument("--test", type=Path, default=glosses / "test.txt")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--budget-minutes", type=float, default=2.0, help="training per model")
    parser.add_argument("--train-sentences", type=int, default=8000, help="0: every training sentence")
    parser.add_argument("--limit", type=int, default=100, help="test sentences (random, seed 0)")
    parser.add_argument("--iw-samples", type=int, default=500)
    parser.add_argument("--eval-batch-size", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--speed-repeats", type=int, default=2, help="rounds of the speed comparison (the fastest)")
    parser.add_argument("--skip-models", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a smoke test: tiny model, data and budget")
    parser.add_argument("--runs", type=Path, default=Path("/tmp/vaekit-bench-text"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    size = FULL
    if args.quick:
        size = QUICK
        args.budget_minutes, args.train_sentences, args.limit, args.speed_repeats = 0.05, 400, 30, 1
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    corpus = args.runs / "corpus"
    results: dict = {
        "machine": machine_info(args.threads),
        "size": size.__dict__,
        "budget_minutes": args.budget_minutes,
        "iw_samples": args.iw_samples,
        "data": write_corpus(args.train, args.test, args.train_sentences, args.limit, corpus),
    }
    print(f"data: {results['data']}; model {size}; {args.threads} threads", flush=True)
    tables = []
    if not args.skip_models:
        with CpuMonitor() as monitor:
            results["models"] = train_models(args, size, corpus, args.runs)
        results["models_cpu"] = {"wall_seconds": monitor.wall, **monitor.summary()}
        tables.append(nll_table(results["models"], args.iw_samples))
    if not args.skip_speed:
        results["speed"] = speed(size, corpus, args.runs, args.speed_repeats)
        tables.append(speed_table(results["speed"]))
    results["wall_seconds"] = time.perf_counter() - start
    print()
    print("\n\n".join(tables))
    busy = results.get("models_cpu", {}).get("foreign_cores_busy")
    print(f"\nwall time {results['wall_seconds']:.0f} s; other processes' CPU in training: {_num(busy, '.2f')} cores")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
