"""Fuzz gic's readers or decoders and write a JSON results file (see fuzz/README.md).

    .venv/bin/python fuzz/run.py reader  --runs 1000000 --results fuzz/work/reader.json
    .venv/bin/python fuzz/run.py decoder --runs 100000  --results fuzz/work/decoder.json
    .venv/bin/python fuzz/run.py decoder --engine random --seconds 60 --seed 1

Engines: `atheris` (coverage-guided libFuzzer, `pip install -e .[fuzz]`; the default when it imports)
and `random` (seeded byte mutations of the corpus; reproducible, needs nothing). Either way a
finding (an exception that is not the project's, a wrong-shaped image, an input slower than
--hang-seconds) is saved under fuzz/work/findings/ and the run goes on.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    p = argparse.ArgumentParser(prog="fuzz/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("target", choices=["reader", "decoder"])
    p.add_argument("--engine", choices=["atheris", "random"], default=None,
                   help="default: atheris if it imports, else random")
    p.add_argument("--runs", type=int, default=None, help="stop after this many executions")
    p.add_argument("--seconds", type=float, default=None, help="stop after this long")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--corpus", type=Path, default=HERE / "corpus")
    p.add_argument("--dict", type=Path, default=HERE / "gic.dict")
    p.add_argument("--results", type=Path, default=None, help="JSON results file (rewritten as it runs)")
    p.add_argument("--findings", type=Path, default=HERE / "work" / "findings")
    p.add_argument("--hang-seconds", type=float, default=30.0, help="an input slower than this is a hang")
    p.add_argument("--max-pixels", type=int, default=2 ** 18,
                   help="pixel limit while fuzzing (default 256 Ki, 512x512: bounds the work of one input; "
                        "sizes above it are the limit's own test)")
    p.add_argument("--threads", type=int, default=1, help="kernel threads (one core by default)")
    return p.parse_known_args(argv)


def seeds(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()]


def main(argv: list[str] | None = None) -> int:
    args, libfuzzer_args = parse(sys.argv[1:] if argv is None else argv)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ["GIC_MAX_PIXELS"] = str(args.max_pixels)
    sys.path.insert(0, str(HERE))
    import warnings

    warnings.simplefilter("ignore")  # Pillow warns on damaged tags; only exceptions count here
    engine = args.engine
    if engine is None:
        try:
            import atheris  # noqa: F401
            engine = "atheris"
        except ImportError:
            engine = "random"
    if engine == "atheris":
        import atheris

        with atheris.instrument_imports(include=["gic", "targets"]):
            import targets
            from gic.codecs import registry

            for spec in registry.specs():  # import every family's decoder inside the block
                registry.create(spec.name)
    import engine as fuzz_engine
    import targets

    stats = fuzz_engine.Stats(args.target, engine, args.seed, args.hang_seconds, args.max_pixels,
                              args.findings)
    target = targets.TARGETS[args.target]
    corpus = seeds(args.corpus)
    if engine == "random":
        fuzz_engine.run_random(target, stats, corpus, fuzz_engine.load_dictionary(args.dict),
                               args.seed, args.runs, args.seconds, args.results)
        print(f"fuzz: {stats.execs} execs, other exceptions {dict(stats.other_exceptions)}, "
              f"hangs {stats.hangs}, peak RSS {fuzz_engine.peak_rss_mib()} MiB")
        return 1 if stats.other_exceptions or stats.hangs else 0
    return _run_atheris(args, libfuzzer_args, target, stats, fuzz_engine)


def _run_atheris(args, libfuzzer_args, target, stats, fuzz_engine) -> int:
    import time

    import atheris

    work = HERE / "work" / f"corpus-{args.target}"  # libFuzzer adds what it finds to the first folder
    work.mkdir(parents=True, exist_ok=True)
    args.findings.mkdir(parents=True, exist_ok=True)  # libFuzzer's slow/crash units go there too
    t_end = None if args.seconds is None else time.time() + args.seconds
    last = [time.time()]

    def one_input(data: bytes) -> None:
        fuzz_engine.plain_array_comparisons(atheris)  # atheris.Fuzz() installs its hook: wrap it, once
        fuzz_engine.execute(target, data, stats)
        now = time.time()
        if (args.runs is not None and stats.execs >= args.runs) or (t_end is not None and now >= t_end):
            # libFuzzer ends with exit(), past Python's atexit: the results are written here
            stats.write(args.results)
            print(f"fuzz: {stats.execs} execs, other exceptions {dict(stats.other_exceptions)}, "
                  f"hangs {stats.hangs}, peak RSS {fuzz_engine.peak_rss_mib()} MiB", flush=True)
            os._exit(1 if stats.other_exceptions or stats.hangs else 0)
        if now - last[0] > 30:
            stats.write(args.results)
            last[0] = now

    flags = [f"-seed={args.seed}", f"-dict={args.dict}", f"-timeout={int(10 * args.hang_seconds)}",
             "-rss_limit_mb=6144", "-max_len=16384", f"-artifact_prefix={args.findings}/"]
    atheris.Setup([sys.argv[0], *flags, *libfuzzer_args, str(work), str(args.corpus)], one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
