"""How far a run is (by steps, or by the clock under a time limit) and the learning-rate schedule
that follows it: a linear warm-up, then cosine decay to lr/100 at the run's end."""
from __future__ import annotations

import math
import time


class RunClock:
    """The share of the run done, 0..1: the steps taken of `steps_total`, or the time spent of
    the training time, whichever is further. `step0` is the step the run (or resume) starts at."""

    def __init__(self, step0: int, steps_total: int, deadline: float | None = None):
        self.step0, self.steps_total = step0, max(1, steps_total)
        self.t0 = time.perf_counter()
        self.deadline = deadline  # perf_counter time at which training steps stop; None: no limit

    def fraction(self, step: int) -> float:
        frac = (step - self.step0) / self.steps_total
        if self.deadline is not None:
            frac = max(frac, (time.perf_counter() - self.t0) / max(self.deadline - self.t0, 1e-9))
        return min(max(frac, 0.0), 1.0)


def lr_factor(schedule: str, warmup_steps: int, fraction: float, step: int) -> float:
    """The learning rate at global `step` as a factor of the base rate."""
    factor = 1.0
    if schedule == "cosine":
        factor = 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * fraction))
    if step < warmup_steps:
        factor *= (step + 1) / warmup_steps
    return factor


def lr_scheduler(opt, lr: float, schedule: str, warmup_steps: int, clock: RunClock):
    """A LambdaLR over `opt` with base rate `lr`, counting from the clock's first step: its
    lr after k scheduler steps is the rate of global step clock.step0 + k."""
    from torch.optim.lr_scheduler import LambdaLR

    for group in opt.param_groups:  # a resumed optimizer carries its last rate: the base is this run's
        group["lr"] = group["initial_lr"] = lr

    def factor(k: int) -> float:
        step = clock.step0 + k
        return lr_factor(schedule, warmup_steps, clock.fraction(step), step)

    return LambdaLR(opt, factor)
