"""The book's `common.trainer`: graphgrad.book.trainer under the book's module path."""
from ..trainer import *  # noqa: F401,F403
from ..trainer import __all__  # noqa: F401
