"""`python -m core.bench`: the batching race from the command line."""

from core.bench.cli import main

raise SystemExit(main())
