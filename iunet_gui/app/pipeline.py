"""Predictions of a list of images, in order, one at a time or as a pipeline of threads.

`predictions(predictor, images, calibration, pipeline)` yields (path, mm per px, (Prediction, image)
or the IunetError that kept the image from being predicted). One at a time, each image is read and
predicted only when the caller asks for it. As a pipeline, images are decoded ahead by a small pool
(sized to the machine) and, on a CPU, one image per core goes through the network side by side
(`pipeline_sizes`) while the caller scores, judges, logs and saves the one it holds: decoding, finding
the part, measuring and logging overlap the network. Results come out in the images' order. Closing the generator
(the caller stops) lets the image in the network finish and drops the rest.
"""
from __future__ import annotations

import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from iunet_gui.core.errors import IunetError

NETWORK_THREADS = 1  # ONNX Runtime / torch threads per run when pipelined: the pipeline runs images side by side


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity, e.g. under taskset or a container's limit)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def pipeline_sizes(backend: str = "") -> tuple[int, int, int]:
    """(decoding threads, images decoded ahead, images predicted at once) for this machine: on a CPU one
    image per core runs the network side by side (each with NETWORK_THREADS), so that finding the part
    and measuring one image overlaps the network on another; a GPU takes one image at a time."""
    cores = usable_cores()
    decoders = 1 if cores <= 2 else 2
    network = 1 if "cuda" in backend or "mps" in backend else max(1, min(cores, 4))
    return decoders, decoders + network, network


def predictions(predictor, images, calibration, pipeline: bool = False):
    images = [Path(p) for p in images]
    if not pipeline:
        for path in images:
            mm = calibration(path)
            try:
                yield path, mm, predictor.predict_file(path, mm)
            except IunetError as exc:
                yield path, mm, exc
        return
    yield from _pipelined(predictor, images, calibration)


def _load(path: Path):
    from iunet_gui.core.images import load_image

    t0 = time.perf_counter()
    image = load_image(path, "rgb")
    return image, (time.perf_counter() - t0) * 1e3


def _predict(predictor, decoded, mm):
    try:
        image, load_ms = decoded.result()
        res = predictor.predict(image, mm)
    except IunetError as exc:
        return exc
    res.timing_ms["load"] = load_ms
    res.timing_ms["total"] += load_ms
    return res, image


def _pipelined(predictor, images: list[Path], calibration):
    decoders, ahead, at_once = pipeline_sizes(str(getattr(predictor, "backend", "")))
    decode = ThreadPoolExecutor(decoders, thread_name_prefix="iunet-decode")
    network = ThreadPoolExecutor(at_once, thread_name_prefix="iunet-network")
    decoded: deque = deque()
    predicted: deque = deque()
    nxt_decode = nxt_predict = 0
    try:
        for k, path in enumerate(images):
            while nxt_decode < len(images) and nxt_decode <= k + ahead:
                decoded.append(decode.submit(_load, images[nxt_decode]))
                nxt_decode += 1
            while nxt_predict < len(images) and nxt_predict <= k + at_once:
                mm = calibration(images[nxt_predict])
                predicted.append((mm, network.submit(_predict, predictor, decoded.popleft(), mm)))
                nxt_predict += 1
            mm, future = predicted.popleft()
            yield path, mm, future.result()
    finally:
        for _, future in predicted:
            future.cancel()
        for future in decoded:
            future.cancel()
        network.shutdown(wait=True)
        decode.shutdown(wait=True)
