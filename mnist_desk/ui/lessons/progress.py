"""Which lesson steps are done and what they gave, kept in the settings between sessions."""

from __future__ import annotations

from ...core.lessons import StepResult
from ..remembered import open_settings, read_json, write_json

KEY = "lessons/progress"


class LessonProgress:
    """``{seed: {step key: StepResult dict}}`` plus the model each lesson trained last (``{seed: name}``)."""

    def __init__(self):
        s = open_settings()
        raw = read_json(s, KEY, dict) or {}
        self.results: dict[str, dict[str, StepResult]] = {}
        for seed, steps in raw.get("results", {}).items() if isinstance(raw.get("results"), dict) else ():
            if isinstance(steps, dict):
                self.results[str(seed)] = {str(k): StepResult.from_dict(v) for k, v in steps.items() if isinstance(v, dict)}
        models = raw.get("models")
        self.models: dict[str, str] = {str(k): str(v) for k, v in models.items()} if isinstance(models, dict) else {}

    def result(self, seed: str, key: str) -> StepResult | None:
        return self.results.get(seed, {}).get(key)

    def record(self, seed: str, key: str, result: StepResult, model: str | None = None) -> None:
        self.results.setdefault(seed, {})[key] = result
        if model:
            self.models[seed] = model
        self._save()

    def restart(self, seed: str) -> None:
        self.results.pop(seed, None)
        self.models.pop(seed, None)
        self._save()

    def done(self, seed: str) -> int:
        return len(self.results.get(seed, {}))

    def _save(self) -> None:
        write_json(open_settings(), KEY, {
            "results": {seed: {k: r.to_dict() for k, r in steps.items()} for seed, steps in self.results.items()},
            "models": self.models,
        })
