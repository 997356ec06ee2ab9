"""Before submitting: every job of the DAG against the partitions the site really has."""
