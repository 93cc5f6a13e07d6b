"""Data-parallel training under torchrun (WORLD_SIZE > 1): the process group, the wrapped network,
one small all-reduce per step so that every process stops at the same step, and a clean exit."""
from __future__ import annotations

import gc
import os


class Distributed:
    """world, rank and the process group of this process (a single process: world 1, rank 0)."""

    def __init__(self):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.enabled = self.world > 1

    @property
    def main(self) -> bool:
        """Whether this process reports, validates and saves."""
        return self.rank == 0

    def setup(self, device):
        """Join the process group; returns this process's device (its own GPU under NCCL)."""
        if not self.enabled:
            return device
        import torch
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
        return device

    def wrap(self, model, device):
        if not self.enabled:
            return model
        from torch.nn.parallel import DistributedDataParallel as DDP

        return DDP(model, device_ids=[device.index] if device.type == "cuda" else None)

    def agree(self, code: int, device) -> int:
        """The largest of every process's `code` (a stop reason; 0 = go on)."""
        if not self.enabled:
            return code
        import torch
        import torch.distributed as dist

        flag = torch.tensor([code], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return int(flag.item())

    def close(self, clean: bool) -> None:
        """Leave the process group. After a clean end every process first waits for rank 0's last
        validation and saves; after an error the others may be inside a collective, so no barrier
        then (torchrun ends them). The caller drops its DDP wrapper first: DDP's reducer keeps the
        group's gloo threads alive until collected, and a thread still running at interpreter exit
        aborts the process."""
        if not self.enabled:
            return
        import torch.distributed as dist

        if dist.is_initialized():
            if clean:
                dist.barrier()
            gc.collect()
            dist.destroy_process_group()
