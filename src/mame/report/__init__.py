"""Report: assembles the stages' figures and tables into results/report.html, with provenance."""
