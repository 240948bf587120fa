"""Custom TFX artifact types that rtrec components produce beside the standard ones."""

from __future__ import annotations

from tfx.types.artifact import Artifact


class ItemCatalog(Artifact):
    """Every valid catalog item as tf.Example (id, title, text, categories, train count)."""

    TYPE_NAME = "rtrec.ItemCatalog"


class IngestionReport(Artifact):
    """Row counts of one ingestion run, reconciled: in = accepted + rejected + dupes + bots."""

    TYPE_NAME = "rtrec.IngestionReport"


class DeadLetter(Artifact):
    """Rejected rows as JSON lines, each with its reason code, source file and line."""

    TYPE_NAME = "rtrec.DeadLetter"


class TextEmbeddings(Artifact):
    """Frozen-BERT vectors of item texts and queries, keyed by text hash (embeddings.npz)."""

    TYPE_NAME = "rtrec.TextEmbeddings"
