"""The Draw view: a canvas, the model's answer, its input and saliency, and labelling your own digits."""
