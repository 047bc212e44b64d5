"""Operating the pipeline: status, dead letters, running everything."""
