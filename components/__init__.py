"""components package of rtrec."""

import rtrec.env  # noqa: F401  (selects tf-keras before TensorFlow loads)
