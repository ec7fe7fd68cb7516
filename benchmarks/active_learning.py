"""VA experiment 1 replayed: AP on a held-out 20% vs number of labels, per labeling strategy.

    python -m benchmarks.active_learning --embeddings embeddings.h5 --labels-dir agg/ \
        --text-embeddings text-embeddings.json --out out/va-exp1
    python -m benchmarks.active_learning --synthetic --out out/synthetic     # planted concepts
    python -m benchmarks.active_learning --synthetic --quick --out out/quick

Writes results.csv, summary.csv, results.json and ap_vs_n.png into --out (see models_app/learning/simulate.py)
and prints JSON lines: AP averaged over labels per (strategy, n), with baseline = the random-order (RCC)
strategy's AP at the same n and ratio = value / baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from models_app.learning.readers import load_ground_truth
from models_app.learning.simulate import DEFAULT_NS, DEFAULT_STRATEGIES, SimulationConfig, run_simulation
from models_app.learning.synthetic import make_synthetic_ground_truth


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = parser.add_argument_group("ground truth")
    src.add_argument("--embeddings", help=".npy (+ keys CSV), .parquet or VA's embeddings.h5")
    src.add_argument("--keys", help="CSV of keys row-aligned with the embeddings (when not found beside them)")
    src.add_argument("--labels-dir", help="folder of {label}.json (VA's agg/)")
    src.add_argument("--text-embeddings", help="JSON {label: vector} for the zero-shot strategies")
    src.add_argument(
        "--text-model",
        help="or encode each label's name with this open_clip model's text tower (MODEL[:PRETRAINED_TAG_OR_PATH]); "
        "it must be the model the embeddings came from",
    )
    src.add_argument("--labels", help="comma-separated subset of labels")
    src.add_argument("--synthetic", action="store_true", help="a synthetic corpus with planted concepts")
    src.add_argument("--synthetic-labels", type=int, default=3)
    src.add_argument("--synthetic-dim", type=int, default=128)
    run = parser.add_argument_group("protocol")
    run.add_argument("--ns", default=",".join(map(str, DEFAULT_NS)))
    run.add_argument("--step", type=int, default=25, help="labels per step (VA's d)")
    run.add_argument("--seeds", type=int, default=3)
    run.add_argument("--strategies", default=",".join(DEFAULT_STRATEGIES))
    run.add_argument("--C", type=float, default=None, help="probe regularisation (default: probe.DEFAULT_C)")
    run.add_argument("--quick", action="store_true", help="1 seed, n up to 100")
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args(argv)
    if not args.synthetic and not (args.embeddings and args.labels_dir):
        parser.error("give --embeddings and --labels-dir, or --synthetic")
    return args


def with_text_encoder(truth, spec: str):
    """Zero-shot vectors from the CLIP text encoder: each label's name, underscores as spaces."""
    import dataclasses

    from models_app.embedding import load_embedder

    model, _, pretrained = spec.partition(":")
    embedder = load_embedder(model, pretrained or None, strict=bool(pretrained))
    names = sorted(truth.labels)
    vectors = embedder.embed_texts([name.replace("_", " ") for name in names])
    if vectors.shape[1] != truth.vectors.shape[1]:
        raise SystemExit(
            f"{model} makes {vectors.shape[1]}-d text vectors; the embeddings are {truth.vectors.shape[1]}-d"
        )
    return dataclasses.replace(truth, text_embeddings=dict(zip(names, vectors, strict=True)))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    labels = args.labels.split(",") if args.labels else None
    if args.synthetic:
        names = tuple(f"planted-{i}" for i in range(args.synthetic_labels))
        truth = make_synthetic_ground_truth(n_shots=20_000, dim=args.synthetic_dim, labels=names)
    else:
        truth = load_ground_truth(
            args.embeddings, args.labels_dir, text_embeddings=args.text_embeddings, keys_path=args.keys, labels=labels
        )
        if args.text_model:
            truth = with_text_encoder(truth, args.text_model)
    ns = tuple(int(n) for n in args.ns.split(","))
    seeds = tuple(range(args.seeds))
    if args.quick:
        ns, seeds = tuple(n for n in ns if n <= 100) or ns[:1], (0,)
    config_kwargs = {"C": args.C} if args.C is not None else {}
    config = SimulationConfig(
        ns=ns, step=args.step, seeds=seeds, strategies=tuple(args.strategies.split(",")), **config_kwargs
    )
    started = time.perf_counter()
    result = run_simulation(
        truth, config, labels=labels, progress=lambda label: print(f"simulating {label}", file=sys.stderr)
    )
    paths = result.write(args.out)
    means = result.mean_over_labels()
    for strategy, by_n in means.items():
        if strategy == "baseline":
            continue
        for n, ap in by_n.items():
            base = means.get("random", {}).get(n)
            line = {
                "bench": "active_learning",
                "metric": f"ap@{n}/{strategy}",
                "value": round(ap, 4),
                "unit": "AP",
                "baseline": None if base is None else round(base, 4),
                "ratio": None if not base else round(ap / base, 3),
                "random_scores_ap": round(means["baseline"][n], 4),
                "labels": len({r.label for r in result.records}),
                "seeds": len(seeds),
            }
            print(json.dumps(line))
    print(
        json.dumps(
            {"outputs": {k: str(v) for k, v in paths.items()}, "seconds": round(time.perf_counter() - started, 1)}
        ),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
