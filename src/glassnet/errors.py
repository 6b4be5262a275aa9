"""The exceptions glassnet raises on purpose, under one root.

``except glassnet.GlassnetError`` catches every failure glassnet reports itself (a bad
argument, a model file, checkpoint or data file it refuses, a failed gradient check),
and lets through the errors of the code it calls. Each class also derives from the
built-in exception that the same failure raised before it existed (``ValueError``,
``TypeError``, ``AssertionError``), so ``except ValueError`` keeps catching a bad
argument::

    GlassnetError
    ├── ArgumentError (ValueError)       an argument with a bad value
    ├── ArgumentTypeError (TypeError)    an argument of the wrong type
    ├── ModelFileError (ValueError)      a model file that cannot be trusted or built
    │   ├── CheckpointError              a training checkpoint likewise
    │   └── ModelFileNotFoundError       no file at the path (also FileNotFoundError)
    ├── DataFileError (ValueError)       a data file that cannot be read as promised
    │   ├── DataChecksumError            its SHA-256 is not the published one
    │   └── DataFileNotFoundError        no file at the path (also FileNotFoundError)
    ├── NonFiniteError (FloatingPointError)  training met a NaN or infinite loss/gradient
    ├── NotFittedError (RuntimeError, ValueError, AttributeError)  used before fit
    └── GradcheckError (AssertionError)  analytic and numerical gradients disagree

and the warnings it gives on purpose::

    GlassnetWarning (UserWarning)
    └── ShapeWarning                     a kernel/stride that does not tile the input

This module imports nothing from glassnet, so every layer may raise these.

>>> try: gn.nn.Linear(0, 3)
... except gn.GlassnetError as e: print(e)
Linear: in_features must be a positive integer, got 0
"""
from __future__ import annotations

__all__ = ["GlassnetError", "ArgumentError", "ArgumentTypeError", "ModelFileError",
           "CheckpointError", "ModelFileNotFoundError", "DataFileError", "DataChecksumError",
           "DataFileNotFoundError", "NonFiniteError", "GradcheckError", "NotFittedError",
           "GlassnetWarning", "ShapeWarning"]


class GlassnetError(Exception):
    """Root of every exception glassnet raises on purpose; never raised itself."""


class ArgumentError(GlassnetError, ValueError):
    """An argument of the right type with a value glassnet cannot use: a size of 0, a
    probability of 1.5, a NaN learning rate, an unknown name; also an integer argument
    given as a float or a bool (reported as a value that is not a positive integer, as
    before this class existed). The message names the function or layer, the argument,
    what was expected and what was given."""


class ArgumentTypeError(GlassnetError, TypeError):
    """An argument of a type glassnet does not accept at all, where a ``TypeError`` is
    what Python's own functions raise (a name that is not a string, a dimension that is
    not an int)."""


class ModelFileError(GlassnetError, ValueError):
    """A model file that is missing its parts, corrupt (its checksum does not match), or
    names an architecture glassnet will not or cannot build; raised by ``glassnet.load``,
    ``glassnet.io.load_weights``, ``load_state_dict`` and the checkpoint readers, with the
    file in the message (also by ``save`` for an argument it cannot store)."""


class CheckpointError(ModelFileError):
    """A training checkpoint that is corrupt, from an incompatible version, or does not fit
    the trainer it is loaded into (a checkpoint is a model file plus trainer state, so
    ``except ModelFileError`` also catches this)."""


class ModelFileNotFoundError(ModelFileError, FileNotFoundError):
    """No model file or checkpoint at the given path; ``except FileNotFoundError`` catches it
    too. The message names the path tried."""


class DataFileError(GlassnetError, ValueError):
    """A data file (IDX, the digits CSV, a text corpus) that is not what it claims to be:
    a bad header, truncated, not valid gzip, or holding the wrong shape or labels; the
    message names the file."""


class DataChecksumError(DataFileError):
    """A data file whose SHA-256 differs from the published one (corrupt or a different
    file)."""


class DataFileNotFoundError(DataFileError, FileNotFoundError):
    """No data file at the given path (or no folder holding the expected files); ``except
    FileNotFoundError`` catches it too. The message names what was looked for and where."""


class NonFiniteError(GlassnetError, FloatingPointError):
    """Training met a NaN or infinite loss or gradient and stopped before the optimizer
    applied it; the message names the epoch, the step and the parameters concerned, and
    the model keeps its last finite weights."""


class GradcheckError(GlassnetError, AssertionError):
    """``gradcheck`` found an analytic gradient that disagrees with the finite-difference
    one (or a function that does not keep float64); the message names the input and the
    worst element."""


class NotFittedError(GlassnetError, RuntimeError, ValueError, AttributeError):
    """A scaler or encoder asked to transform before ``fit``. Also a ``ValueError`` and an
    ``AttributeError``, as scikit-learn's ``NotFittedError`` is, so scikit-learn's checks
    and a user's ``except ValueError`` treat it as theirs."""


class GlassnetWarning(UserWarning):
    """Root of the warnings glassnet gives on purpose (``warnings.simplefilter("error",
    GlassnetWarning)`` turns them all into errors)."""


class ShapeWarning(GlassnetWarning):
    """A convolution or pooling layer whose kernel and stride do not tile its input: the
    output size (N + 2P - F) / S + 1 is not a whole number and is floored, as in PyTorch,
    so the last rows or columns of the input are never read. Given once per layer with the
    arithmetic; ``strict=True`` (or ``nn.set_strict_shapes(True)``) makes it an error."""
