"""The real-time gateway: online store backends and A/B testing (no TensorFlow in this package)."""
