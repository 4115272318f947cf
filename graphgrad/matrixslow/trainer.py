"""MatrixSlow's trainers: not supported yet (the distributed ones will not be: see graphgrad.distributed)."""
from __future__ import annotations

__all__ = ["SimpleTrainer", "Trainer", "Saver", "DistTrainerParameterServer", "DistTrainerRingAllReduce"]


def _unsupported(name: str, hint: str):
    class Unsupported:
        def __init__(self, *args, **kargs):
            raise NotImplementedError(f"trainer.{name}: {hint}")
    Unsupported.__name__ = Unsupported.__qualname__ = name
    Unsupported.__doc__ = f"Not supported: {hint}"
    return Unsupported


_LOOP = "not supported yet; write the loop (set_value, optimizer.one_step(), optimizer.update()) as the examples do"
SimpleTrainer = _unsupported("SimpleTrainer", _LOOP)
Trainer = _unsupported("Trainer", _LOOP)
Saver = _unsupported("Saver", "not supported yet; save the graph with graphgrad.graph.save(graph, directory)")
_DIST = ("MatrixSlow's distributed training (parameter server / ring all-reduce over gRPC) is not supported; "
         "use graphgrad.distributed for data-parallel training")
DistTrainerParameterServer = _unsupported("DistTrainerParameterServer", _DIST)
DistTrainerRingAllReduce = _unsupported("DistTrainerRingAllReduce", _DIST)
