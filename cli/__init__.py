"""The rtrec command line: the top layer, over pipeline, serving and benchmarks."""

import rtrec.env  # noqa: F401  (selects tf-keras before anything imports TensorFlow)
