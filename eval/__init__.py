"""Evaluation of topic classifiers (metrics from sklearn.metrics)."""
