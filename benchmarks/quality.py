"""Offline quality benchmark: baselines (and, registered by the caller, rtrec) side by side.

    python benchmarks/quality.py --events events.csv --items items.csv --out results.json \
        [--protocol leave_last_out temporal] [--models popularity itemknn ease content]

Every model is fitted on the same split and ranks the full catalog for the same test users;
the JSON holds the metrics (protocol -> model -> slice -> metric), what the cleaning dropped,
each split's statistics and the settings used. ``run_quality`` is the entry point for other
code: pass ``extra_models`` to add a model, and add encoders to ``ENCODERS``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from rtrec.evaluation.baselines import EASE, ItemKNN, Popularity, Recommender  # noqa: E402
from rtrec.evaluation.content import ContentOnly, EmbedFn, tfidf_embed  # noqa: E402
from rtrec.evaluation.interactions import load_interactions  # noqa: E402
from rtrec.evaluation.protocols import PROTOCOLS, TrainData, make_split  # noqa: E402
from rtrec.evaluation.runner import DEFAULT_BATCH, DEFAULT_KS, evaluate, format_table  # noqa: E402

ModelFactory = Callable[[TrainData], Recommender]

EMBEDDING_CACHE = "outputs/embedding_cache"


def bert_embed(texts: list[str]):
    """all-MiniLM-L6-v2 sentence vectors (TensorFlow is imported only when this is used)."""
    from trainer.text_vectors import embed_texts

    return embed_texts(texts, "minilm", cache_dir=EMBEDDING_CACHE)


def tiny_bert_embed(texts: list[str]):
    """A tiny random BERT: for tests of the plumbing, not for quality."""
    from trainer.text_vectors import embed_texts

    return embed_texts(texts, "tiny")


#: Text encoders for the content baseline and rtrec, by ``--encoder`` name.
ENCODERS: dict[str, EmbedFn] = {
    "tfidf": tfidf_embed,
    "bert": bert_embed,
    "tiny-bert": tiny_bert_embed,
}

BASELINES: tuple[str, ...] = ("popularity", "itemknn", "itemknn-last5", "ease", "content")
MODELS: tuple[str, ...] = (*BASELINES, "rtrec")


def rtrec_factory(encoder: str, settings: Mapping[str, object]) -> ModelFactory:
    """rtrec's two-tower model, text vectors from ``encoder``, hyperparameters from ``settings``."""

    def build(train: TrainData) -> Recommender:
        from rtrec.hparams import Hyperparameters
        from trainer.offline import RtrecRecommender

        hp = Hyperparameters.from_dict(dict(settings))
        return RtrecRecommender(ENCODERS[encoder], hp)

    return build


def baseline_factories(
    encoder: str = "tfidf", rtrec_settings: Mapping[str, object] | None = None
) -> dict[str, ModelFactory]:
    """The built-in models by name; each factory builds an unfitted model for a split."""
    if encoder not in ENCODERS:
        raise ValueError(f"unknown encoder {encoder!r}; use one of {', '.join(ENCODERS)}")
    embed_fn = ENCODERS[encoder]
    rtrec_encoder = "tiny-bert" if encoder == "tiny-bert" else "bert"
    return {
        "popularity": lambda train: Popularity(),
        "itemknn": lambda train: ItemKNN(),
        "itemknn-last5": lambda train: ItemKNN(last_items=5, name="itemknn-last5"),
        "ease": lambda train: EASE(),
        "content": lambda train: ContentOnly(embed_fn, name=f"content-{encoder}"),
        "rtrec": rtrec_factory(rtrec_encoder, rtrec_settings or {}),
    }


def run_quality(
    events_path: str,
    items_path: str,
    out_path: str,
    protocols: Sequence[str] = tuple(PROTOCOLS),
    models: Sequence[str] = BASELINES,
    extra_models: Mapping[str, ModelFactory] | None = None,
    encoder: str = "tfidf",
    ks: Sequence[int] = DEFAULT_KS,
    temporal_quantile: float = 0.9,
    batch_size: int = DEFAULT_BATCH,
    console: Console | None = None,
    rtrec_settings: Mapping[str, object] | None = None,
) -> dict:
    """Evaluate the named baselines plus ``extra_models`` on each protocol; write and return JSON.

    ``extra_models`` maps a name to a factory that receives the split's training data (catalog
    and raw ids included) and returns an unfitted ``Recommender``; the runner then calls
    ``fit`` and ``score`` on it exactly as on the baselines.
    """
    console = console or Console()
    started = time.perf_counter()
    available = baseline_factories(encoder, rtrec_settings)
    unknown = [name for name in models if name not in available]
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; built-in ones are {', '.join(available)}")
    factories = {name: available[name] for name in models}
    factories.update(extra_models or {})
    if not factories:
        raise ValueError("no models to evaluate; name at least one baseline or extra model")

    log = load_interactions(events_path, items_path)
    console.print(
        f"{len(log.events)} events, {log.n_users} users, {log.n_items} catalog items; "
        f"dropped {sum(log.dropped.values())} rows: {log.dropped}"
    )
    if "ease" in models:
        EASE().check_catalog(log.n_items)  # fail now, not after the other models have run

    results, split_stats = {}, {}
    for protocol in protocols:
        options = {"quantile": temporal_quantile} if protocol == "temporal" else {}
        split = make_split(log, protocol, **options)
        split_stats[protocol] = split.stats
        console.print(f"{protocol}: {split.stats}")
        instances = [factory(split.train) for factory in factories.values()]
        results.update(evaluate(instances, split, ks, batch_size, on_progress=console.print))

    runtime = time.perf_counter() - started
    payload = {
        "results": results,
        "dataset": {
            "events_path": events_path,
            "items_path": items_path,
            "events": len(log.events),
            "users": log.n_users,
            "items": log.n_items,
            "dropped": log.dropped,
        },
        "splits": split_stats,
        "settings": {
            "ks": list(ks),
            "encoder": encoder,
            "temporal_quantile": temporal_quantile,
            "rtrec": dict(rtrec_settings or {}),
        },
        "runtime_seconds": runtime,
    }
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    # The results file is exactly protocol -> model -> slice -> metric; the rest beside it.
    Path(out_path).write_text(json.dumps(results, indent=2))
    meta = {key: value for key, value in payload.items() if key != "results"}
    Path(meta_path(out_path)).write_text(json.dumps(meta, indent=2))
    console.out(format_table(results), highlight=False)  # pre-rendered; console.out won't wrap
    console.print(f"wrote {out_path} (and {meta_path(out_path)}) in {runtime:.1f}s")
    return payload


def meta_path(out_path: str) -> str:
    """Where the dataset, split statistics and settings of a results file are written."""
    stem = out_path[: -len(".json")] if out_path.endswith(".json") else out_path
    return f"{stem}.meta.json"


def parse_settings(pairs: Sequence[str]) -> dict[str, object]:
    """``name=value`` strings to a dict, values read as JSON when they parse (else strings)."""
    settings: dict[str, object] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep:
            raise ValueError(f"--rtrec-set {pair!r} must look like name=value")
        try:
            settings[name] = json.loads(raw)
        except json.JSONDecodeError:
            settings[name] = raw
    return settings


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: parse flags and call ``run_quality``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", required=True, help="events table (CSV, JSONL or Parquet)")
    parser.add_argument("--items", required=True, help="items table (CSV, JSONL or Parquet)")
    parser.add_argument("--out", required=True, help="where to write the results JSON")
    parser.add_argument("--protocol", nargs="+", default=list(PROTOCOLS), choices=list(PROTOCOLS))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument(
        "--rtrec-set", nargs="*", default=[], help="rtrec hyperparameters as name=value"
    )
    parser.add_argument("--encoder", default="tfidf", choices=list(ENCODERS))
    parser.add_argument("--ks", nargs="+", type=int, default=list(DEFAULT_KS))
    parser.add_argument("--temporal-quantile", type=float, default=0.9)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    args = parser.parse_args(argv)
    run_quality(
        args.events,
        args.items,
        args.out,
        protocols=args.protocol,
        models=args.models,
        encoder=args.encoder,
        ks=args.ks,
        temporal_quantile=args.temporal_quantile,
        batch_size=args.batch_size,
        rtrec_settings=parse_settings(args.rtrec_set),
    )


if __name__ == "__main__":
    main()
