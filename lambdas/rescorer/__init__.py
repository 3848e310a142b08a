"""Real-time rescoring: a model-relevant CustomerStateChanged rescores the customer's propensity into its live state."""
