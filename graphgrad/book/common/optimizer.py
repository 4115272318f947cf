"""The book's `common.optimizer`: graphgrad.book.optimizer under the book's module path."""
from ..optimizer import *  # noqa: F401,F403
from ..optimizer import __all__  # noqa: F401
