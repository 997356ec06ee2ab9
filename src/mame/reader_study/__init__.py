"""Reader study: the blinded real-vs-synthetic kit, readers' ratings, the automated observer, ROC analysis."""
