"""The book's `common.gradient`: graphgrad.book.gradient under the book's module path."""
from ..gradient import *  # noqa: F401,F403
from ..gradient import __all__  # noqa: F401
