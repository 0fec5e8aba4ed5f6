"""The Lab: experiments on your own drawing with every model the Draw view compares, each in a sub-view that
computes only while shown (robustness sliders, preprocessing switches, adversarial nudges, what a model
thinks a digit looks like, breaking a network)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout

from ..subviews import SubViewTabs

from .break_view import BreakView
from .dream_view import DreamView
from .nudge_view import NudgeView
from .recipe_view import RecipeView
from .robustness_view import RobustnessView


class LabTab(SubViewTabs):
    def __init__(self, hub, draw_tab, parent=None):
        super().__init__(parent)
        self.hub, self.draw_tab = hub, draw_tab
        self.robustness = RobustnessView(hub)
        self.recipe = RecipeView(hub)
        self.nudges = NudgeView(hub)
        self.dream = DreamView(hub)
        self.breaking = BreakView(hub)
        self.add_views([self.robustness, self.recipe, self.nudges, self.dream, self.breaking])
        self.explain_tabs({
            "Robustness": ("Shift, turn, scale, thicken, add noise to or hide part of your drawing and watch the answers",
                           ("How robust each model is: small changes to the drawing, and how each model's "
                            "answer holds up across the whole range of each change.")),
            "Preprocessing": ("Switch MNIST's preprocessing steps off one by one",
                              "Why the drawing is cropped, scaled and centred before the models see it."),
            "Nudges": ("Adversarial examples: a tiny change that fools the models",
                       "Change your drawing invisibly little so that the models read another digit."),
            "Its idea of a digit": ("The picture a model finds most like a digit",
                                    "Gradient ascent on the picture: what each model 'thinks' a digit looks like."),
            "Break it": ("Silence units or shake weights and see what the network loses",
                         "How much damage a trained network tolerates, layer by layer."),
        })

        self.header = QLabel(" ")
        self.header.setStyleSheet("font-weight: bold")
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addWidget(self.tabs, 1)
        hub.currentChanged.connect(lambda _m: self._models_changed())
        hub.listChanged.connect(self._models_changed)  # (the Draw view refills its pickers without a signal)
        draw_tab.comparedChanged.connect(self._models_changed)
        draw_tab.drawingFinished.connect(self._drawing_changed)
        self._models_changed()
        self._drawing_changed(draw_tab.current_input)

    def _models_changed(self) -> None:
        # (no main model yet, none: a compared model must not pass for the main one)
        models = [] if self.hub.current is None else [self.hub.current, *self.draw_tab.compared_models()]
        for m in models:
            self.hub.ensure_net(m)
        self.header.setText("Models: " + ", ".join(m.name for m in models) + "  (choose them in the Draw view)"
                            if models else "No model yet")
        for v in self.views:
            v.set_models(models)

    def _drawing_changed(self, x28) -> None:
        grey = None if x28 is None else self.draw_tab.canvas.to_array()
        for v in self.views:
            v.set_canvas(grey, x28)
