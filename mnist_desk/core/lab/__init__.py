"""The Lab: how robust is each network to what a person's drawing does differently from MNIST?

One slider at a time moves, turns, scales, thickens, dirties or partly hides the user's own drawing,
either on the canvas before the MNIST recipe runs or on the 28x28 field the networks see after it,
and :func:`~mnist_desk.core.lab.transforms.sweep` reports every compared network's confidence over
the slider's whole range; the recipe's own steps can be turned off with
:class:`~mnist_desk.core.preprocess.RecipeSteps`. Headless: numpy and scipy only, the forward passes
through :class:`~mnist_desk.core.numpy_net.NumpyNet`.
"""
