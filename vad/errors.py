"""Exceptions raised on bad input; each message names the file or entry and the problem."""


class VADError(Exception):
    """Base class of every error raised for bad user input."""


class DataError(VADError, ValueError):
    """A dataset, video, frame or label file cannot be used as given."""


class ScoreFileError(VADError, ValueError):
    """A score file is malformed or inconsistent with its dataset."""


class CheckpointError(VADError, ValueError):
    """A checkpoint does not fit the model or data it is used with."""


class TrainingError(VADError, RuntimeError):
    """Training cannot continue (for example the loss became NaN)."""


class RunFolderError(VADError, RuntimeError):
    """A run folder cannot be used (another run is writing it)."""
