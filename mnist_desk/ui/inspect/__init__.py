"""The Inspect view's parts: panel specs and matplotlib figures (no Qt), worker jobs, and one widget per sub-view.

``panels`` and ``figures`` describe what is shown as plain data and draw it with matplotlib for export;
the Qt views render the very same panels, so a PNG/SVG export has the window's content and colour scales.
"""
