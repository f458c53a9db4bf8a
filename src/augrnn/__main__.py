"""`python -m augrnn`: train or reuse a chapter's runs from the command line (see augrnn.book.cli)."""

import sys

from .book.cli import main

sys.exit(main())
