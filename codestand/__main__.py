"""`python -m codestand` is the same as the `codestand` command."""

from codestand.cli import main

raise SystemExit(main())
