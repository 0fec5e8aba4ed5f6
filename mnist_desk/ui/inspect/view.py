"""The Inspect view: weights, gradients, errors, hidden features and a summary of the current model.

Only the visible sub-view computes; every slow step runs off the GUI thread (:mod:`.inspect.work` on the job runner) with a progress line, and results are cached per model (and per
drawing where the drawing matters), so switching back and forth recomputes nothing.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QLabel, QVBoxLayout

from ..subviews import SubViewTabs
from .errors_view import ErrorsView
from .features_view import FeaturesView
from .gradients_view import GradientsView
from .summary_view import SummaryView
from .weights_view import WeightsView


class InspectTab(SubViewTabs):
    def __init__(self, hub, draw_tab, parent=None):
        super().__init__(parent)
        self.hub = hub
        self.draw_tab = draw_tab
        self.weights = WeightsView(hub)
        self.gradients = GradientsView(hub)
        self.errors = ErrorsView(hub)
        self.features = FeaturesView(hub)
        self.summary = SummaryView(hub)
        self.add_views([self.weights, self.gradients, self.errors, self.features, self.summary])
        self.explain_tabs({
            "Weights": ("What the first layer's units look for",
                        ("The weights the first layer learned, drawn as pictures, and how its units respond to "
                         "your drawing.")),
            "Gradients": ("Which pixels would change each digit's score",
                          "Saliency maps: for each digit, where more ink would raise or lower its score."),
            "Errors": ("The confusion matrix: which digits the model mixes up, with the images",
                       "How the model does on MNIST's 10,000 test images, mistake by mistake."),
            "Hidden features": ("A map of what a hidden layer makes of the test images",
                                "Test images placed by their hidden-layer activations: do the digits form groups?"),
            "Summary": ("The model's layers, sizes and training history",
                        "The architecture layer by layer, the number of weights and the training curves."),
        })

        self.header = QLabel("No model yet")
        self.header.setStyleSheet("font-weight: bold")
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addWidget(self.tabs, 1)
        self._loading_test_image = False
        hub.currentChanged.connect(self.set_model)
        if draw_tab is not None:
            draw_tab.drawingFinished.connect(self.set_drawing)
        self.errors.imagePicked.connect(self.load_test_image)
        if hub.current is not None:
            self.set_model(hub.current)
        if draw_tab is not None and draw_tab.current_input is not None:
            self.set_drawing(draw_tab.current_input)

    # ------------------------------------------------------------------ what is shown
    def set_model(self, m) -> None:
        self.header.setText(f"Model: {m.label}" if m is not None else "No model yet")
        for v in self.views:
            v.set_model(m)

    def set_drawing(self, x) -> None:
        for v in self.views:
            if v is self.gradients and self._loading_test_image:
                continue  # the gradient view shows the test image itself, not its redrawn copy
            v.set_drawing(x)

    def load_test_image(self, index: int, image: np.ndarray) -> None:
        """An image picked in a gallery: into the canvas (as a drawing) and into the gradient view."""
        if self.draw_tab is not None:
            self._loading_test_image = True
            try:
                self.draw_tab.canvas.set_mnist_image(image)
            finally:
                self._loading_test_image = False
        self.gradients.show_test_image(index)
        self.tabs.setCurrentWidget(self.gradients)
        self.message.emit(f"Test image #{index} loaded into the canvas and the gradient view")

