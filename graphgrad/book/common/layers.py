"""The book's `common.layers`: its layer classes, with the functions and im2col/col2im it also exposes."""
from ..functions import *  # noqa: F401,F403
from ..functions import __all__ as _functions
from ..layers import *  # noqa: F401,F403
from ..layers import __all__ as _layers
from ..util import col2im, im2col  # noqa: F401

__all__ = [*_layers, *_functions, "im2col", "col2im"]
