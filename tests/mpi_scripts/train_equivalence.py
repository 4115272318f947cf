"""50 steps of SGD with momentum, of Adam, and of Adam with batch norm, float64; each rank saves its state.

python train_equivalence.py OUT plain FAMILY      one process, no graphgrad.distributed at all (the reference)
mpirun -n K python train_equivalence.py OUT ddp FAMILY   K ranks, DistributedDataParallel over ShardedDataset
FAMILY: mlp (12-16-16-4, BatchNorm1d) or cnn (the SimpleConvNet of `graphgrad train --model cnn`, and a
small conv net with BatchNorm2d). Global batches of 31 samples: uneven shares on 2 and 3 ranks (16+15,
11+10+10). With batch norm the reference uses BatchNorm1d/2d on the whole batch and the ranks the same
network converted by SyncBatchNorm.convert_sync_batchnorm.
"""
import sys
from pathlib import Path

import numpy as np

from graphgrad import nn, optim
from graphgrad.data import DataLoader, TensorDataset
from graphgrad.train.models import simple_cnn

STEPS, BATCH = 50, 31


def mlp(batch_norm: bool):
    gen = np.random.default_rng(1)
    # Before batch norm a bias has a zero gradient (the mean is taken out): Adam would follow its
    # rounding noise, so that layer has none, as usual.
    norm = [nn.BatchNorm1d(16, dtype=np.float64)] if batch_norm else []
    return nn.Sequential(nn.Linear(12, 16, bias=not batch_norm, dtype=np.float64, generator=gen), *norm, nn.ReLU(),
                         nn.Linear(16, 16, dtype=np.float64, generator=gen), nn.Tanh(),
                         nn.Linear(16, 4, dtype=np.float64, generator=gen))


def cnn(batch_norm: bool):
    if not batch_norm:
        return simple_cnn(seed=1, dtype="float64")
    gen = np.random.default_rng(1)
    return nn.Sequential(nn.Unflatten(1, (1, 28, 28)),
                         nn.Conv2d(1, 6, 5, stride=2, bias=False, dtype=np.float64, generator=gen),
                         nn.BatchNorm2d(6, dtype=np.float64), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(6 * 6 * 6, 10, dtype=np.float64, generator=gen))


def train(family: str, optimizer_name: str, distributed: bool, bucket_cap_mb: float, batch_norm: bool = False,
          start: Path | None = None):
    rng = np.random.default_rng(0)
    features, classes = (12, 4) if family == "mlp" else (784, 10)
    dataset = TensorDataset(rng.standard_normal((310, features)), rng.integers(0, classes, 310))
    model = net = (mlp if family == "mlp" else cnn)(batch_norm)
    if distributed:
        from graphgrad.distributed import DistributedDataParallel, ShardedDataset, SyncBatchNorm, rank

        model = SyncBatchNorm.convert_sync_batchnorm(model)
        if rank() != 0:  # a different start everywhere else: DDP must broadcast rank 0's
            for a in model.state_dict().values():
                a[...] = 0.5
        net = DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb)
        dataset = ShardedDataset(dataset)
    if optimizer_name == "momentum":
        opt = optim.SGD(model.parameters(), lr=0.1 if family == "mlp" else 0.02, momentum=0.9)
    else:
        opt = optim.Adam(model.parameters(), lr=0.01 if family == "mlp" else 0.001)
    if start is not None:  # where training starts, to check that it moved every parameter
        np.savez(start, **{n: p.data.copy() for n, p in model.named_parameters()})
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, seed=2)
    loss_fn, step = nn.CrossEntropyLoss(), 0
    while step < STEPS:
        for xb, tb in loader:
            loss = loss_fn(net(xb), tb)
            opt.zero_grad()
            loss.backward()
            if distributed:
                net.sync_gradients()
            opt.step()
            step += 1
            if step == STEPS:
                break
    return {name: a.copy() for name, a in model.state_dict().items()}


if __name__ == "__main__":
    out, mode, family = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    distributed = mode == "ddp"
    r = 0
    if distributed:
        from graphgrad.distributed import rank

        r = rank()
    def start(name: str) -> Path | None:  # the reference also saves where it started
        return None if distributed else out / f"plain_{family}_{name}_start.npz"

    # bucket caps: one bucket for everything, and (Adam) a few buckets: 0.0005 MiB = 65 float64 values
    for name, cap in (("momentum", 25.0), ("adam", 0.0005 if family == "mlp" else 0.05)):
        np.savez(out / f"{mode}_{family}_{name}_rank{r}.npz",
                 **train(family, name, distributed, cap, start=start(name)))
    np.savez(out / f"{mode}_{family}_adam_bn_rank{r}.npz",
             **train(family, "adam", distributed, 25.0, batch_norm=True, start=start("adam_bn")))
