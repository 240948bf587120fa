"""Model evaluation and blessing: TFMA metrics for id sets, eval config, HTML report."""
