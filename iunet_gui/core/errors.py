"""The project's own error types. Every bad-input path raises one of these with a message
that names the file and the problem; the CLI turns them into a one-line message + exit 2."""


class IunetError(Exception):
    """Base class of every error the project raises on bad input."""


class AnnotationError(IunetError):
    """A labelme JSON file (or annotation data) that cannot be read or is invalid."""


class ImageLoadError(IunetError):
    """An image file that is missing, empty, corrupt or of an unsupported kind."""


class ProjectError(IunetError):
    """A project folder or its settings file that cannot be used."""


class CheckpointError(IunetError):
    """A model checkpoint (or ONNX file) that is missing, broken or from an incompatible version."""


class SpecError(IunetError):
    """A specification (defect limits, verdict margins) with a nonsense value."""
