"""Training steps on every rank that never end by themselves, to test how a job fails.

mpirun -n K python fail.py DIR raise R   rank R raises after 3 steps (the job must abort)
mpirun -n K python fail.py DIR hang      every rank steps forever (the test kills one with SIGKILL)
Each rank writes its pid to DIR/pid<rank> before its first step.
"""
import os
import sys
import time
from pathlib import Path

import numpy as np

from graphgrad import Tensor, nn
from graphgrad.distributed import DistributedDataParallel, rank

directory, mode = Path(sys.argv[1]), sys.argv[2]
me = rank()
(directory / f"pid{me}").write_text(str(os.getpid()))
model = DistributedDataParallel(nn.Linear(8, 2, dtype=np.float64))
x, step = Tensor(np.ones((4, 8))), 0
while True:
    model(x).sum().backward()
    model.sync_gradients()
    step += 1
    if mode == "raise" and me == int(sys.argv[3]) and step == 3:
        raise RuntimeError(f"deliberate failure at step {step}")
    time.sleep(0.01)
