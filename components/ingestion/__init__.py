"""Event ingestion: a custom TFX component that turns raw logs into next-item examples with Beam."""
