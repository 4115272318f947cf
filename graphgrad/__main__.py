"""`python -m graphgrad`: the `graphgrad` command."""
import sys

from .cli import main

sys.exit(main())
