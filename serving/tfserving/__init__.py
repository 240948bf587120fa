"""TF Serving's own files for rtrec (models.config, batching, monitoring, compose, Kubernetes).

The text protos here are read by stock ``tensorflow_model_server`` in production and by
``rtrec serve-model`` (``serving.model_server``) locally, through :mod:`serving.tfserving.configs`.
"""
