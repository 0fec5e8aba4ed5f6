"""The Lab: experiments on the user's own drawing with every compared network, headless.

- :mod:`.transforms`: one slider at a time moves, turns, scales, thickens, dirties or partly hides the
  drawing, on the canvas before the MNIST recipe runs or on the 28x28 field after it, and ``sweep``
  reports every network's confidence over the slider's whole range (numpy forward passes); the recipe's
  own steps can be turned off with :class:`~mnist_desk.core.preprocess.RecipeSteps`.
- :mod:`.attacks`: targeted adversarial nudges (one step, or many small ones) and the smallest budget
  that fools a model; :mod:`.dream`: gradient ascent on one class, what the network "thinks" it looks
  like (both use the Keras model's gradients, on the TensorFlow thread).
- :mod:`.breaking`: first-layer units silenced or weights shaken, and the accuracy that is left.
"""
