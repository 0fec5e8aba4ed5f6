"""The Lab: experiments on a trained model (nudging, dreaming, breaking) that the Lab view runs on a background thread."""
