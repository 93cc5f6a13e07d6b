"""Predictions of a list of images, in order, one at a time or as a pipeline of threads.

`predictions(predictor, images, calibration, pipeline)` yields (path, mm per px, (Prediction, image)
or the IunetError that kept the image from being predicted). One at a time, each image is read and
predicted only when the caller asks for it. As a pipeline, images are decoded ahead by a small pool
(sized to the machine) and the network predicts the next image while the caller scores, judges, logs
and saves the one it holds: decoding and post-processing overlap the network. Closing the generator
(the caller stops) lets the image in the network finish and drops the rest.
"""
from __future__ import annotations

import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from iunet_gui.core.errors import IunetError


def pipeline_sizes() -> tuple[int, int]:
    """(decoding threads, images decoded ahead) for this machine."""
    cores = os.cpu_count() or 1
    decoders = 1 if cores <= 2 else 2
    return decoders, decoders + 1


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
    decoders, ahead = pipeline_sizes()
    decode = ThreadPoolExecutor(decoders, thread_name_prefix="iunet-decode")
    network = ThreadPoolExecutor(1, thread_name_prefix="iunet-network")
    decoded: deque = deque()
    predicted: deque = deque()
    nxt_decode = nxt_predict = 0
    try:
        for k, path in enumerate(images):
            while nxt_decode < len(images) and nxt_decode <= k + ahead:
                decoded.append(decode.submit(_load, images[nxt_decode]))
                nxt_decode += 1
            while nxt_predict < len(images) and nxt_predict <= k + 1:  # the network runs one image ahead
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
