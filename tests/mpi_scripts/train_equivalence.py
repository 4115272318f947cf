"""50 steps of SGD with momentum, of Adam, and of Adam with batch norm on a float64 MLP; each rank saves its state.

python train_equivalence.py OUT plain      one process, no graphgrad.distributed at all (the reference)
mpirun -n K python train_equivalence.py OUT ddp   K ranks, DistributedDataParallel over ShardedDataset
Global batches of 31 samples: uneven shares on 2 and 3 ranks (16+15, 11+10+10). With batch norm the
reference uses BatchNorm1d on the whole batch and the ranks SyncBatchNorm.
"""
import sys
from pathlib import Path

import numpy as np

from graphgrad import nn, optim
from graphgrad.data import DataLoader, TensorDataset

STEPS, BATCH = 50, 31


def train(optimizer_name: str, distributed: bool, bucket_cap_mb: float, batch_norm: bool = False) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((310, 12))
    t = rng.integers(0, 4, 310)
    dataset = TensorDataset(x, t)
    gen = np.random.default_rng(1)
    norm = []
    if batch_norm:
        from graphgrad.distributed import SyncBatchNorm

        norm = [(SyncBatchNorm if distributed else nn.BatchNorm1d)(16, dtype=np.float64)]
    # Before batch norm a bias has a zero gradient (the mean is taken out): Adam would follow its
    # rounding noise, so that layer has none, as usual.
    first = nn.Linear(12, 16, bias=not batch_norm, dtype=np.float64, generator=gen)
    model = nn.Sequential(first, *norm, nn.ReLU(),
                          nn.Linear(16, 16, dtype=np.float64, generator=gen), nn.Tanh(),
                          nn.Linear(16, 4, dtype=np.float64, generator=gen))
    net = model
    if distributed:
        from graphgrad.distributed import DistributedDataParallel, ShardedDataset

        if distributed_rank() != 0:  # a different start everywhere else: DDP must broadcast rank 0's
            for a in model.state_dict().values():
                a[...] = 0.5
        net = DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb)
        dataset = ShardedDataset(dataset)
    if optimizer_name == "momentum":
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:
        opt = optim.Adam(model.parameters(), lr=0.01)
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


def distributed_rank() -> int:
    from graphgrad.distributed import rank

    return rank()


if __name__ == "__main__":
    out, mode = Path(sys.argv[1]), sys.argv[2]
    distributed = mode == "ddp"
    r = distributed_rank() if distributed else 0
    for name, cap in (("momentum", 25.0), ("adam", 0.0005)):  # 0.0005 MB: several buckets
        np.savez(out / f"{mode}_{name}_rank{r}.npz", **train(name, distributed, cap))
    np.savez(out / f"{mode}_adam_bn_rank{r}.npz", **train("adam", distributed, 25.0, batch_norm=True))
