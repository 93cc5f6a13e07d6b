"""An exponential moving average of the weights (torch's AveragedModel): the network that is
validated and saved. After global step s: avg <- d avg + (1 - d) weights with d = min(decay,
(1 + s) / (10 + s)), so the earliest weights fade fast; buffers (BN statistics) are copied."""
from __future__ import annotations


def ema_decay(decay: float, step: int) -> float:
    return min(decay, (1 + step) / (10 + step))


class WeightAverage:
    """`module` is the averaged network (eval mode, no gradients); `update(model, step)` folds in
    the weights of `model` after global step `step`."""

    def __init__(self, model, decay: float, state: dict | None = None):
        import torch
        from torch.optim.swa_utils import AveragedModel

        self.decay = decay
        self._d = decay

        def lerp_all(averaged, current, _n):
            torch._foreach_lerp_(averaged, current, 1 - self._d)

        self._avg = AveragedModel(model, multi_avg_fn=lerp_all)
        self._avg.n_averaged.fill_(1)  # average from the first update on (AveragedModel copies at 0)
        self.module = self._avg.module
        if state is not None:
            self.module.load_state_dict(state)
        self.module.eval().requires_grad_(False)

    def update(self, model, step: int) -> None:
        import torch

        self._d = ema_decay(self.decay, step)
        self._avg.update_parameters(model)
        with torch.no_grad():
            for e, b in zip(self.module.buffers(), model.buffers()):
                e.copy_(b)
