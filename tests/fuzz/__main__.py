"""`python -m tests.fuzz [libFuzzer flags] [corpus dir]`: fuzz the decoders and feed adapters with atheris.

With no corpus directory, the seeds of `tests.fuzz.targets` go into a temporary one. Run by
`tests/unit/test_fuzz.py` for a fixed number of inputs in `make test`; run it longer by hand, e.g.
`python -m tests.fuzz -max_total_time=600`. A finding stops the run with the exception and the input's file.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

# The targets import the project's modules when built: inside this block, so those are instrumented for coverage.
with atheris.instrument_imports(include=["streams", "producers"]):
    from tests.fuzz.targets import build
    from tests.fuzz.targets import seeds

    ONE_INPUT = build()


def main() -> None:
    argv = list(sys.argv)
    if not any(not arg.startswith("-") for arg in argv[1:]):
        corpus = Path(tempfile.mkdtemp(prefix="acdscope-fuzz-"))
        for number, seed in enumerate(seeds()):
            (corpus / f"seed-{number:03d}").write_bytes(seed)
        argv.append(str(corpus))
    atheris.Setup(argv, ONE_INPUT)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
