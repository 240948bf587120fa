"""rtrec: real-time personalized recommendation and search, from raw logs to TF Serving."""

from rtrec import env as _env  # noqa: F401  (must run before TensorFlow is imported)

__version__ = "0.1.0"
