"""Training: corpus readers, data hygiene and splits, fine-tuning (uses model/, never the reverse)."""
