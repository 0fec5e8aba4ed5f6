"""The Lessons view: the seed notebooks as guided, checked steps."""
