"""Export a checkpoint to ONNX: BN folded into the convolutions, dynamic height and width (the
graph pads any size to the network's multiple, models.blocks.pad_input), the network's metadata
(input channels, size multiple, class names and colours, training meta) in the model's props. The
graph's output: (N, 1, H, W) logits of a binary network, (N, K + 1, H, W) of a multi-class one."""
from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

from iunet_gui.core.atomic import atomic_write_bytes


def export_onnx(ckpt, out_path, opset: int = 17) -> Path:
    """`ckpt`: a models.checkpoint.Checkpoint (or a path to one). Returns the written path."""
    import onnx
    import torch

    from iunet_gui.models.blocks import fuse_conv_bn
    from iunet_gui.models.checkpoint import load_checkpoint

    if not hasattr(ckpt, "model"):
        ckpt = load_checkpoint(ckpt)
    model = fuse_conv_bn(ckpt.model).eval()
    mult = getattr(ckpt.model, "multiple", 1)
    dummy = torch.zeros(1, ckpt.in_channels, 4 * mult, 5 * mult)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, dummy, buf, input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}, "logits": {0: "n", 2: "h", 3: "w"}},
                          opset_version=opset, dynamo=False, do_constant_folding=True)
    proto = onnx.load_from_string(buf.getvalue())
    meta = {"arch": ckpt.arch, "config": ckpt.config, "in_channels": ckpt.in_channels, "multiple": mult,
            "pads_input": True, "classes": ckpt.classes,
            "colors": getattr(ckpt, "colors", None), "meta": ckpt.meta}
    entry = proto.metadata_props.add()
    entry.key, entry.value = "iunet_gui", json.dumps(meta, default=str)
    out_path = Path(out_path)
    atomic_write_bytes(out_path, proto.SerializeToString())
    return out_path
