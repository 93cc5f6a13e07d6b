"""The network behind one call: a runner takes one float32 (C, H, W) input of any size and returns
its (H, W) logits (a binary network) or (K + 1, H, W) logits (a multi-class network of K kinds): the torch runner, the ONNX Runtime runner and `forward_padded`, which
training's validation uses. The network pads its input to its size multiple itself
(models.blocks.pad_input), in torch and in the ONNX graph exported from it.

Backend names are normalised here too (`normalise_backend`): every spelling the CLI offers maps
to "auto", "torch" or "onnx".
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from iunet_gui.core.errors import CheckpointError, IunetError

Runner = Callable[[np.ndarray], np.ndarray]

# every spelling accepted on the command line and in settings -> the backend it means
BACKENDS = {"auto": "auto", "torch": "torch", "pytorch": "torch", "onnx": "onnx", "onnxruntime": "onnx",
            "ort": "onnx"}
BACKEND_CHOICES = ("auto", "torch", "onnx", "onnxruntime")  # the spellings the CLI lists


def normalise_backend(name: str | None) -> str:
    """'auto', 'torch' or 'onnx' for any accepted spelling (case-insensitive); None means 'auto'."""
    key = "auto" if name is None else str(name).strip().lower()
    if key not in BACKENDS:
        raise IunetError(f"unknown backend {name!r} (choose one of {', '.join(BACKEND_CHOICES)})")
    return BACKENDS[key]


def onnxruntime_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def pick_device(requested: str = "auto"):
    """CUDA when present, else MPS, else CPU; an explicit request that can't be met says so."""
    import torch

    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if requested in ("auto", None):
        if torch.cuda.is_available():
            return torch.device("cuda"), ""
        if mps:
            return torch.device("mps"), ""
        return torch.device("cpu"), "no GPU found: running on the CPU"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        return torch.device("cpu"), f"{requested} was requested but no CUDA GPU is available: running on the CPU"
    if requested == "mps" and not mps:
        return torch.device("cpu"), "mps was requested but is not available: running on the CPU"
    return torch.device(requested), ""


def _torch_run(model, device) -> Runner:
    import torch

    channels_last = device.type == "cpu"

    def run(x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(x[None]).to(device)
        if channels_last:
            t = t.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            return _squeeze(model(t)[0].float().cpu().numpy())

    return run


def _squeeze(z: np.ndarray) -> np.ndarray:
    """(H, W) logits of a one-channel output, the (C, H, W) logits of a multi-class one."""
    return z[0] if z.shape[0] == 1 else z


def forward_padded(model, x: np.ndarray, device=None) -> np.ndarray:
    """(H, W) (binary) or (C, H, W) (multi-class) logits of a torch model (in eval mode) for one float32 (C, H, W) input of any size
    (the network pads it to its multiple and crops back). `device` defaults to the model's."""
    if device is None:
        device = next(model.parameters()).device
    return _torch_run(model, device)(np.ascontiguousarray(x, np.float32))


def torch_runner(model, device, threads: int | None = None) -> Runner:
    """A runner of a torch model: BN folded into the convolutions, channels-last on the CPU."""
    import torch

    from iunet_gui.models.blocks import fuse_conv_bn

    if threads:
        torch.set_num_threads(int(threads))
    model = fuse_conv_bn(model).to(device).eval()
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    return _torch_run(model, device)


def onnx_session(path: Path, threads: int | None = None):
    """(ONNX Runtime session on the CPU, the iunet_gui metadata the export stored in it)."""
    import json

    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = int(threads) if threads else min(os.cpu_count() or 1, 8)
    try:
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    except Exception as exc:  # any loader failure is a broken model file
        raise CheckpointError(f"{path}: not a loadable ONNX model ({str(exc).splitlines()[0][:200]})") from None
    props = sess.get_modelmeta().custom_metadata_map
    return sess, json.loads(props.get("iunet_gui", "{}") or "{}")


def onnx_runner(sess, info: dict) -> Runner:
    """A runner of an ONNX Runtime session; `info`: the iunet_gui metadata stored with the graph."""
    in_name = sess.get_inputs()[0].name

    def run(x: np.ndarray) -> np.ndarray:
        return _squeeze(sess.run(None, {in_name: np.ascontiguousarray(x, np.float32)[None]})[0][0])

    if info.get("pads_input"):
        return run
    return _padded_for_old_export(run, int(info.get("multiple", 32)))


def _padded_for_old_export(run: Runner, multiple: int) -> Runner:
    """`run` of a graph exported before graphs padded their input: inputs padded as
    models.blocks.pad_input pads them (edge replication), the logits cropped back."""

    def run_padded(x: np.ndarray) -> np.ndarray:
        h, w = x.shape[-2:]
        xp = np.pad(x, ((0, 0), (0, (-h) % multiple), (0, (-w) % multiple)), mode="edge")
        return run(xp)[..., :h, :w]

    return run_padded
