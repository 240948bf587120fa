"""Python modules for TF Serving protos that ``tensorflow-serving-api==2.16.1`` does not ship.

``monitoring_config_pb2`` and ``session_bundle_config_pb2`` (``BatchingParameters``) are generated
code, committed; see ``README.md`` beside them for where their ``.proto`` sources came from and
the exact ``protoc`` command.
"""
