"""The MPI world: init, rank, size, barrier, all-reduce and parameter broadcast over mpi4py.

mpi4py is imported by `init()`, never at import time, so `import graphgrad` (and even
`import graphgrad.distributed`) works without it. `init()` is idempotent and works under
`mpirun`/`mpiexec`, under SLURM's `srun` (when Open MPI was built with PMIx/SLURM support), and
in a plain single process (MPI's singleton mode: a world of one). With more than one process
it installs an excepthook: an uncaught exception on any rank prints its traceback, names the
rank, and calls MPI_Abort, which ends every process of the job instead of leaving the others
blocked in a collective.
"""
from __future__ import annotations

import sys
from itertools import zip_longest

import numpy as np

from ..autograd.tensor import Tensor

INSTALL_HINT = ("graphgrad.distributed needs mpi4py and an MPI library: pip install -e '.[mpi]' "
                "(on Debian/Ubuntu first: apt-get install openmpi-bin libopenmpi-dev)")

_world = None  # mpi4py's COMM_WORLD once init() ran


def init():
    """Start MPI (once) and return the world communicator; raise ImportError naming what to install."""
    global _world
    if _world is None:
        try:
            from mpi4py import MPI
        except ImportError as err:
            raise ImportError(f"{INSTALL_HINT} ({err})") from err
        _world = MPI.COMM_WORLD
        if _world.Get_size() > 1:
            sys.excepthook = _abort_on_uncaught(sys.excepthook)
    return _world


def rank() -> int:
    """This process's number in the job, 0 .. world_size() - 1."""
    return init().Get_rank()


def world_size() -> int:
    """How many processes the job has."""
    return init().Get_size()


def is_main() -> bool:
    """True on rank 0, the process that alone prints, writes files and checkpoints."""
    return rank() == 0


def barrier() -> None:
    """Wait until every process has reached this call."""
    init().Barrier()


def all_reduce(value, op: str = "sum"):
    """The element-wise sum (op="sum") or mean (op="mean") of `value` over all ranks, as a new array.

    `value` is an array, a number or a Tensor (then a Tensor is returned, outside any graph).
    Every rank must pass the same shape and dtype.
    """
    if op not in ("sum", "mean"):
        raise ValueError(f"all_reduce: op must be 'sum' or 'mean', got {op!r}")
    from mpi4py import MPI

    world = init()
    local = np.array(value.data if isinstance(value, Tensor) else value, order="C")
    total = np.empty_like(local)
    world.Allreduce(local, total, op=MPI.SUM)
    if op == "mean":
        total = total / world.Get_size()
    return Tensor(total) if isinstance(value, Tensor) else total


def broadcast_parameters(model, root: int = 0) -> None:
    """Copy `root`'s parameters and buffers into every rank's `model`, in place, in state_dict order.

    Raises ValueError on every rank (so none is left waiting) when some rank's model has other
    names, shapes or dtypes than root's: a silent mismatch would broadcast garbage.
    """
    world = init()
    state = model.state_dict()
    layout = [(name, a.shape, str(a.dtype)) for name, a in state.items()]
    expected = world.bcast(layout, root=root)
    differ = [r for r, same in enumerate(world.allgather(layout == expected)) if not same]
    if differ:
        here = ""
        if layout != expected:
            mine, theirs = next(pair for pair in zip_longest(layout, expected) if pair[0] != pair[1])
            here = f"; rank {world.Get_rank()} has {mine} where rank {root} has {theirs}"
        raise ValueError(f"broadcast_parameters: the model on rank(s) {differ} differs from rank {root}'s"
                         f"{here}; build the same model on every rank")
    for array in state.values():
        buffer = array if array.flags.c_contiguous else np.ascontiguousarray(array)
        world.Bcast(buffer, root=root)
        if buffer is not array:
            array[...] = buffer


def abort(message: str, code: int = 1) -> None:
    """Print `message` naming this rank, then end every process of the job (MPI_Abort) with status `code`.

    The way out when one rank cannot go on: exiting alone would leave the others waiting
    forever in their next collective.
    """
    world = init()
    size = world.Get_size()
    print(f"rank {world.Get_rank()} of {size}: {message}; aborting all {size} processes (MPI_Abort)",
          file=sys.stderr, flush=True)
    world.Abort(code)


def _abort_on_uncaught(previous):
    """An excepthook that reports like `previous`, names the rank, then ends the whole job."""
    def hook(exc_type, exc, tb):
        previous(exc_type, exc, tb)
        abort(f"graphgrad.distributed: failed with {exc_type.__name__}: {exc}")
    return hook
