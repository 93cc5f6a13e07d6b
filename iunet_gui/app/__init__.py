"""Use cases, Qt-free: what the CLI commands and the window's Model panel both call.

Inspect images with a model (predict, measure, score against ground truth, report, save)::

    from iunet_gui.app.settings import InspectSettings, open_predictor
    from iunet_gui.app.inspect import inspect_images, save_report

    settings = InspectSettings(backend="onnx", threshold=None, flip_mean=True, merge_gap_px=None,
                               chain_gap_px=None, crop_to_part=True, min_area_px=4, mm_per_px=None)
    predictor = open_predictor("best.pt", settings)      # inference.predictor.Predictor
    run = inspect_images(predictor, images, settings,
                         project=project,                # the images' project (default: each one's folder)
                         score=True,                     # compare with the ground truth where labelled
                         out="predictions/", mirror_root=project.folder, labelme=True,
                         progress=callback, cancel=token)
    save_report("detections.csv", run)

- `InspectSettings` (app.settings): every choice of a run; `.validated(name)` checks it and
  normalises the backend name (`name` spells a field for the user, e.g. "--merge-gap").
  `apply_settings(predictor, settings)` sets up a predictor the caller already holds.
- `inspect_images` returns an `Inspection`: counts (images, predicted, found, saved), per-image
  score `records`, the `summary` over the labelled images (core.metrics.Evaluator), report `rows`
  (core.report), and the images that failed / were not scored / not saved as "name: why" lines.
- Progress: one core.progress.ProgressEvent per image (stage "predict", step / steps, message = the
  image's name, `result` = its `InspectedImage`: prediction, calibration, record, rows, files written;
  None when the image could not be read).
- Cancel: a set core.progress.CancelToken stops the run before the next image by raising
  core.progress.Cancelled, whose `partial` is the Inspection so far (`cancelled` True). Stopping is
  not an error: callers show the partial result.
- Output files (app.output): `check_output_folder` refuses a folder where the files would overwrite
  the images or their labels (inspect_images checks it itself); `save_prediction` writes one image's
  stem.png, stem_prob.png and defects JSON (and labelme polygons) atomically.
- Scoring (app.evaluate): `evaluate_model(model, data_dir, settings)` -> (records, summary) on the
  labelled images of a folder; `compare_models(models, data_dir, settings)`; `evaluate_dirs(pred_dir,
  gt_dir, settings)` for masks predicted elsewhere.
"""
