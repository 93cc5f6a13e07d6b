"""The QA inspection station in the window: the part's specification (dialog), a verdict for every
predicted image (image list, banner over the canvas, limit-breaking defects in the NG colour), the
review queue (dock, keyboard decisions that feed the labels) and the inspection report. The verdicts,
the log and the queue are the Qt-free app layer's (core.spec, app.records, app.review, app.reports);
these modules only show them and pass the reviewer's decisions on."""
