"""``rtrec serve-model``: a REST twin of TF Serving 2.16 for SavedModels, in Python.

Same URLs, bodies, status codes, config files and flags as ``tensorflow_model_server``'s REST
API, for laptops and CI machines without the TF Serving binary or Docker. Entry points:
:class:`serving.model_server.server.ModelServer` and the click command
:func:`serving.model_server.flags.main`.
"""
