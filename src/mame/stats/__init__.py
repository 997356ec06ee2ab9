"""Statistics that belong to no stage: AUC and its intervals, binormal ROC, multi-reader tests,
study planning, proportions. Evaluation and the reader study both import from here."""
