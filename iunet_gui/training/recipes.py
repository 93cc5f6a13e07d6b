"""Named training recipes: settings measured together, one JSON file each in recipes/:
{"label": shown in the window, "minutes": the time the window offers, "description": what it is
for, "settings": {TrainConfig field: value}}. A recipe may set any setting.
"washers" is TrainConfig's own defaults; "tiles" the magnetic-tile benchmark's settings."""
from __future__ import annotations

import json
from importlib import resources

from iunet_gui.core.errors import IunetError
from iunet_gui.training.config import TrainConfig, setting_names, unknown_setting


def _load() -> dict[str, dict]:
    out = {}
    folder = resources.files("iunet_gui.training") / "recipes"
    for entry in sorted(folder.iterdir(), key=lambda e: (e.name != "washers.json", e.name)):
        if not entry.name.endswith(".json"):
            continue
        recipe = json.loads(entry.read_text(encoding="utf-8"))
        for key in recipe.get("settings", {}):
            if key not in setting_names():
                raise unknown_setting(key)
        out[entry.name[: -len(".json")]] = recipe
    return out


_RECIPES = _load()
RECIPES: dict[str, dict] = {name: r.get("settings", {}) for name, r in _RECIPES.items()}  # name -> settings


def recipe_info(name: str) -> dict:
    """A recipe's label, minutes and description (everything in its file but the settings)."""
    return {k: v for k, v in _RECIPES.get(name, {}).items() if k != "settings"}


def recipe_config(recipe: str = "washers", **settings) -> TrainConfig:
    """TrainConfig of a named recipe. `settings` win over the recipe's, except those that are None
    (not given); `model_overrides` are merged over the recipe's. With `init` (fine-tuning) and no rate
    given, a recipe's rate is divided by ten, as the default rate is (effective_lr)."""
    if recipe not in RECIPES:
        raise IunetError(f"unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}")
    base = RECIPES[recipe]
    given = {k: v for k, v in settings.items() if v is not None}
    for key in given:
        if key not in setting_names():
            raise unknown_setting(key)
    merged = {**base, **given}
    merged["model_overrides"] = {**base.get("model_overrides", {}), **(given.get("model_overrides") or {})}
    if merged.get("init") and "lr" in base and "lr" not in given:
        merged["lr"] = base["lr"] / 10  # fine-tuning: a tenth of the rate, as effective_lr does
    return TrainConfig(**merged)
