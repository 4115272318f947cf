"""`graphgrad export`: write the model of a `graphgrad train` checkpoint as an ONNX file."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from . import UsageError


def register(subparsers) -> None:
    """Add the `export` sub-command."""
    p = subparsers.add_parser(
        "export", help="export a trained checkpoint's model to ONNX",
        description="Export the model of a `graphgrad train --out DIR` checkpoint as ONNX (batch axis dynamic); "
                    "when ONNX Runtime is installed, its outputs are compared with graphgrad's.",
    )
    p.add_argument("--checkpoint", required=True, help="directory written by `graphgrad train --out`")
    p.add_argument("--onnx", required=True, type=Path, help="the .onnx file to write")
    p.add_argument("--opset", type=int, default=None, help="ONNX operator set version (default 17)")
    p.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    """Rebuild the checkpoint's model, export it, and check it in ONNX Runtime when available."""
    from ..train import CheckpointError, load_checkpoint
    from .train import build_model

    from .. import onnx as gonnx
    from ..onnx.errors import require

    try:
        require("onnx")
    except ImportError as err:
        raise UsageError(str(err)) from None
    directory = Path(args.checkpoint)
    if directory.is_file():
        directory = directory.parent
    try:
        state = load_checkpoint(directory)
        meta = state["meta"]
        model = build_model(meta)
        model.load_state_dict(state["model"])
    except CheckpointError as err:
        raise UsageError(str(err)) from None
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise UsageError(f"{directory} does not hold a graphgrad train checkpoint ({err})") from None
    example = np.zeros((1, meta["architecture"][0]), dtype=meta["dtype"])
    try:
        proto = gonnx.export(model, example, args.onnx, opset_version=args.opset)
    except (gonnx.ONNXError, OSError) as err:
        raise UsageError(str(err)) from None
    print(f"wrote {args.onnx} ({len(proto.graph.node)} nodes, opset {proto.opset_import[0].version}, "
          f"input (batch, {meta['architecture'][0]}) {meta['dtype']})")
    print(_runtime_check(model, args.onnx, example))
    return 0


def _runtime_check(model, path: Path, example: np.ndarray) -> str:
    """ONNX Runtime's largest difference from graphgrad on a random batch of 8, as one line."""
    try:
        import onnxruntime
    except ImportError:
        return "not checked in ONNX Runtime (pip install onnxruntime)"
    from ..autograd.mode import no_grad
    from ..autograd.tensor import Tensor

    x = np.random.default_rng(0).random((8,) + example.shape[1:]).astype(example.dtype)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (ours_in,) = session.get_inputs()
    theirs = session.run(None, {ours_in.name: x})[0]
    model.eval()
    with no_grad():
        ours = model(Tensor(x)).data
    return f"ONNX Runtime agrees with graphgrad to {float(np.abs(theirs - ours).max()):.1e} on a batch of 8"
