"""Inference: a trained network applied to whole images.

- `preprocess`: the one input normalisation, input scaling and test-time flip mean (shared with training).
- `runners`: torch and ONNX Runtime runners, padding to the network's multiple (once), backend names,
  `forward_padded` for training's validation.
- `predictor`: `Predictor.from_path(checkpoint_or_onnx).predict(image)` -> probability, mask, defects.
- `onnx_export`: a checkpoint as an ONNX file with its metadata.
"""
