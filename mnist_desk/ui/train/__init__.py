"""The Train view: the form, live curves, the run history and the run itself on the job runner."""
