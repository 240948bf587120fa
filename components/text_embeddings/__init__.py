"""Item and query text embeddings from the frozen BERT, computed once per catalog and cached."""
