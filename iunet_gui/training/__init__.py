"""Training (torch, no Qt): config and recipes, data, augmentation, losses, schedule, weight
averaging, batch-norm statistics, validation, checkpoint state, distributed set-up, and the loop
(trainer.train). Inference lives in iunet_gui.inference."""
