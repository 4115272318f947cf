"""Checks of graphgrad.distributed's collectives on 2 ranks; prints 'ok' on rank 0 when all hold.

mpirun -n 2 python api.py      (a failed assert aborts the job with the rank's number)
"""
import numpy as np

from graphgrad import Tensor, nn
from graphgrad import distributed as dist

me, size = dist.rank(), dist.world_size()
assert size == 2 and dist.init() is dist.init() and dist.is_main() == (me == 0)

# all_reduce: sum and mean, arrays, numbers and Tensors
total = dist.all_reduce(np.array([1.0, 2.0]) * (me + 1))
assert np.array_equal(total, [3.0, 6.0])
assert np.array_equal(dist.all_reduce(np.arange(3) + me, op="mean"), [0.5, 1.5, 2.5])
assert float(dist.all_reduce(me + 1)) == 3
reduced = dist.all_reduce(Tensor(np.full(2, float(me))))
assert isinstance(reduced, Tensor) and np.array_equal(reduced.data, [1.0, 1.0])
try:
    dist.all_reduce(np.ones(1), op="max")
    raise AssertionError("op='max' was accepted")
except ValueError as err:
    assert "op must be 'sum' or 'mean'" in str(err)

# broadcast_parameters: rank 0's values everywhere, and a clear error for a different model
model = nn.Sequential(nn.Linear(3, 2, dtype=np.float64), nn.BatchNorm1d(2, dtype=np.float64))
for a in model.state_dict().values():
    a[...] = me + 1
dist.broadcast_parameters(model)
assert all(np.all(a == 1) for a in model.state_dict().values())
other = nn.Linear(3, 2 + me, dtype=np.float64)
try:
    dist.broadcast_parameters(other)
    raise AssertionError("a model of another shape was accepted")
except ValueError as err:  # raised on every rank, so the job goes on in step
    assert "the model on rank(s) [1] differs from rank 0's" in str(err), err
    assert ("rank 1 has ('weight', (3, 3), 'float64')" in str(err)) == (me == 1), err

# DistributedDataParallel: uneven and empty shares, parameters without gradients, delegation
net = nn.Sequential(nn.Linear(3, 2, dtype=np.float64), nn.Linear(2, 1, dtype=np.float64))
ddp = dist.DistributedDataParallel(net, bucket_cap_mb=1e-5)  # 10 bytes: a bucket per parameter
assert len(ddp.buckets) == 4 and ddp.bytes_per_step == (6 + 2 + 2 + 1) * 8
assert ddp.state_dict().keys() == net.state_dict().keys() and ddp.module is net
rng = np.random.default_rng(0)
x = rng.standard_normal((5, 3))
whole = net(Tensor(x)).mean()
whole.backward()
expected = [p.grad.data.copy() for p in net.parameters()]
ddp.zero_grad()
share = x[:4] if me == 0 else x[4:]  # 4 + 1 samples
ddp(Tensor(share)).mean().backward()
ddp.sync_gradients()
assert all(np.allclose(p.grad.data, e, rtol=1e-14, atol=0) for p, e in zip(net.parameters(), expected))
# gradients laid out like their parameters (a Linear weight is stored transposed): a fast optimizer step
def layout(a):  # strides of the dimensions that have more than one element
    return [s for s, n in zip(a.strides, a.shape) if n > 1]


assert all(layout(p.grad.data) == layout(p.data) for p in net.parameters())
assert not net[0].weight.data.flags.c_contiguous

# overlap: when the first layer's weight gradient is final (the last of backward), the other buckets
# are already on their way; backward through the bare module (above) started nothing
in_flight = []
watch = net[0].weight.register_post_accumulate_grad_hook(
    lambda p: in_flight.append([b.request is not None for b in ddp.buckets]))
ddp.zero_grad()
ddp(Tensor(share)).mean().backward()
assert in_flight == [[True, True, True, False]] or in_flight == [[True, True, False, False]], in_flight
# the others too when backward ended; the last one is reduced by sync_gradients' blocking Allreduce
assert [b.request is not None for b in ddp.buckets] == [True, True, True, False]
watch.remove()
ddp.sync_gradients()
assert all(np.allclose(p.grad.data, e, rtol=1e-14, atol=0) for p, e in zip(net.parameters(), expected))

# a second backward before sync_gradients is refused; under no_sync() gradients accumulate locally
ddp.zero_grad()
loss = ddp(Tensor(share)).mean()
loss.backward(retain_graph=True)
try:
    loss.backward()
    raise AssertionError("a second backward was accepted")
except RuntimeError as err:
    assert "a second backward reached 1." in str(err) and "under model.no_sync()" in str(err), err
ddp.sync_gradients()
ddp.zero_grad()
with ddp.no_sync():  # micro-batches of 2 + 2 (rank 0) and 1 (rank 1), each mean loss / micro-batches
    parts = [share[:2], share[2:]] if me == 0 else [share]
    for part in parts:
        (ddp(Tensor(part)).mean() / len(parts)).backward()
    assert all(b.request is None for b in ddp.buckets)
ddp.sync_gradients(samples=len(share))
assert all(np.allclose(p.grad.data, e, rtol=1e-14, atol=0) for p, e in zip(net.parameters(), expected))

ddp.zero_grad()
if me == 0:  # rank 1 has an empty share: contributes nothing
    ddp(Tensor(x)).mean().backward()
ddp.sync_gradients(samples=5 if me == 0 else 0)
assert all(np.allclose(p.grad.data, e, rtol=1e-14, atol=0) for p, e in zip(net.parameters(), expected))

ddp.zero_grad()
net[1].bias.grad = Tensor(np.ones(1)) if me == 1 else None  # only rank 1 has this one
ddp.sync_gradients(samples=1)
grads = [p.grad for p in net.parameters()]
assert grads[:3] == [None] * 3 and np.array_equal(grads[3].data, [0.5])
try:
    dist.DistributedDataParallel(net).sync_gradients()
    raise AssertionError("sync_gradients without a batch size was accepted")
except ValueError as err:
    assert "samples must be a count" in str(err)
# SyncBatchNorm: the gradients of BatchNorm1d on the whole batch, also for an empty share
def bn_net(norm):
    rng = np.random.default_rng(3)  # the same weights on every rank
    return nn.Sequential(nn.Linear(3, 4, bias=False, dtype=np.float64, generator=rng), norm(4, dtype=np.float64),
                         nn.Linear(4, 1, dtype=np.float64, generator=rng))


plain = bn_net(nn.BatchNorm1d)
(plain(Tensor(x)) ** 2).mean().backward()
for split in (3, 5):
    synced = dist.DistributedDataParallel(bn_net(dist.SyncBatchNorm))
    share = x[:split] if me == 0 else x[split:]
    with np.errstate(invalid="ignore", divide="ignore"):  # the empty share's mean loss is nan
        (synced(Tensor(share)) ** 2).mean().backward()
    synced.sync_gradients()
    for p, q in zip(synced.parameters(), plain.parameters()):
        assert np.allclose(p.grad.data, q.grad.data, rtol=1e-13, atol=1e-15), (split, p.grad.data, q.grad.data)
    assert np.allclose(synced.module[1].running_var, plain[1].running_var, rtol=1e-14)

dist.barrier()
if me == 0:
    print("ok")
