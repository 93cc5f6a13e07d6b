"""Batch-norm statistics recomputed for the weights that are validated and saved (torch's
update_bn over training batches), and frozen for the last share of a run.

The running averages of training (momentum 0.1 at batch 2) follow the last ~10 batches of the
live weights, not the averaged ones; statistics over `bn_batches` batches fit the saved weights."""
from __future__ import annotations

import numpy as np

from iunet_gui.core.progress import CancelToken


def bn_layers(net) -> list:
    import torch

    return [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


class BatchNormStats:
    """Recomputes BN statistics over batches drawn as in training (focused crops, augmentation,
    no mix-up) by a sampler of its own, the same crops every time, so the training draw is not
    disturbed. `cancel` (ignored under DDP, where the processes must agree) stops a recomputation
    part-way; the old statistics are then kept."""

    def __init__(self, cfg, batches, train_items, device, cancel: CancelToken, distributed: bool):
        self.cfg, self.batches, self.items, self.device = cfg, batches, train_items, device
        self.cancel, self.distributed = cancel, distributed
        self.sampler = None
        self.frozen = False
        self.refreshed_at: int | None = None  # the global step of the last refresh of the averaged weights

    def _cancelled(self) -> bool:
        return self.cancel.cancelled and not self.distributed

    def recompute(self, target) -> bool:
        """Set the BN statistics of `target` to their average over the batches; False (old
        statistics kept) when cancelled."""
        import torch
        from torch.optim.swa_utils import update_bn

        from iunet_gui.training.data import CropSampler

        bns = bn_layers(target)
        if not bns:
            return True
        cfg = self.cfg
        if self.sampler is None:
            self.sampler = CropSampler(self.items, cfg.crop, cfg.focus, seed=cfg.seed * 1000 + 999, zoom=cfg.zoom,
                                       area_sampling=cfg.area_sampling)
        self.sampler.rng = np.random.default_rng(cfg.seed * 1000 + 999)
        rng = np.random.default_rng(cfg.seed * 7919 + 999)
        before = [({k: v.clone() for k, v in m.state_dict().items()}, m.training) for m in bns]

        def inputs():
            for _ in range(cfg.bn_batches or 60):  # freezing needs statistics even when refresh is off
                if self._cancelled():
                    return
                x = torch.from_numpy(self.batches.inputs(self.sampler, rng, cfg.batch_size))
                yield (x.to(self.device, memory_format=torch.channels_last) if self.device.type == "cpu"
                       else x.to(self.device))

        with torch.no_grad():
            update_bn(inputs(), target)
        cancelled = self._cancelled()
        for m, (state, mode) in zip(bns, before):
            m.train(mode)  # update_bn sets the whole network's mode; a frozen BN layer stays frozen
            if cancelled:
                m.load_state_dict(state)
        return not cancelled

    def refresh(self, averaged, step: int) -> None:
        """Recompute the statistics of the averaged (saved) weights once per global step."""
        if self.cfg.bn_batches and self.refreshed_at != step and self.recompute(averaged):
            self.refreshed_at = step

    def train_mode(self, model) -> None:
        """The live network in training mode; its BN layers stay on their fixed statistics once frozen."""
        model.train()
        if self.frozen:
            for m in bn_layers(model):
                m.eval()

    def maybe_freeze(self, model, fraction: float) -> bool:
        """For the last `freeze_bn` share of the run (by `fraction` done), train with the BN
        statistics fixed (recomputed once), as the network is used at inference. True when it froze now."""
        if self.cfg.freeze_bn and not self.frozen and fraction >= 1 - self.cfg.freeze_bn and self.recompute(model):
            self.frozen = True
            self.train_mode(model)
            return True
        return False
