"""Golden sets: named, frozen lists of labelled images of a project (the images that matter most),
kept in the project's database (table golden_images, app.registry). A model is gated on them
(app.gate); their images are left out of training by default, with a notice when they would be
trained on. Frozen: each image's labels hash is kept from when it was added, and `changed` names
the images whose labels differ from it since."""
from __future__ import annotations

from pathlib import Path

from iunet_gui.core.errors import IunetError

DEFAULT_SET = "golden"


def _labels_hash(project, image: Path) -> str:
    from iunet_gui.app.registry import labels_hash

    return labels_hash(project, [image])


class GoldenSets:
    """The golden sets of a project, on a ModelRegistry's database."""

    def __init__(self, registry):
        from iunet_gui.core.project import Project

        self.registry = registry
        self.project = Project.open(registry.folder)

    def names(self) -> list[str]:
        return [r["set_name"] for r in self.registry.log.query(
            "SELECT DISTINCT set_name FROM golden_images ORDER BY set_name")]

    def images(self, name: str = DEFAULT_SET) -> list[Path]:
        """The set's images (paths in the project folder), in the order they were added."""
        rows = self.registry.log.query("SELECT image FROM golden_images WHERE set_name = ? ORDER BY id", (name,))
        return [self.project.folder / r["image"] for r in rows]

    def add(self, images, name: str = DEFAULT_SET) -> list[Path]:
        """Add labelled images of the project to the set (frozen with their labels now); returns those
        added. An unlabelled image, or one outside the project, is refused with a clear message."""
        from iunet_gui.app.records import utc_now

        name = str(name).strip()
        if not name:
            raise IunetError("a golden set needs a name")
        rows = []
        for img in (Path(p) for p in images):
            img = img if img.is_absolute() else self.project.folder / img
            if img.parent.resolve() != self.project.folder.resolve() or img not in self.project.images:
                raise IunetError(f"{img}: not an image of the project {self.project.folder}")
            if not self.project.is_labelled(img):
                raise IunetError(f"{img.name}: not labelled; only labelled images can be in a golden set")
            rows.append((name, img.name, _labels_hash(self.project, img), utc_now()))
        known = {p.name for p in self.images(name)}
        rows = [r for r in rows if r[1] not in known]
        self.registry.log.execute_many(
            "INSERT OR IGNORE INTO golden_images (set_name, image, labels_hash, added) VALUES (?, ?, ?, ?)", rows)
        return [self.project.folder / r[1] for r in rows]

    def add_folder(self, folder, name: str = DEFAULT_SET) -> list[Path]:
        """Every labelled image of the project whose name is also an image in `folder`."""
        names = {p.name for p in Path(folder).iterdir()} if Path(folder).is_dir() else set()
        if not names:
            raise IunetError(f"{folder}: not a folder with images")
        return self.add([p for p in self.project.images if p.name in names and self.project.is_labelled(p)], name)

    def remove(self, images, name: str = DEFAULT_SET) -> None:
        names = [(name, Path(p).name) for p in images]
        self.registry.log.execute_many("DELETE FROM golden_images WHERE set_name = ? AND image = ?", names)

    def changed(self, name: str = DEFAULT_SET) -> list[str]:
        """Images of the set whose labels changed (or went) since they were added."""
        rows = self.registry.log.query("SELECT image, labels_hash FROM golden_images WHERE set_name = ? ORDER BY id",
                                       (name,))
        out = []
        for r in rows:
            img = self.project.folder / r["image"]
            if not img.is_file() or not self.project.is_labelled(img) or _labels_hash(self.project, img) != r["labels_hash"]:
                out.append(r["image"])
        return out


def training_exclusions(registry, include_golden: bool = False, name: str = DEFAULT_SET) -> tuple[list[str], str]:
    """(image names to leave out of training, the notice to show). The golden set is left out unless
    `include_golden`; then the notice says its figures will flatter the model."""
    golden = [p.name for p in GoldenSets(registry).images(name)]
    if not golden:
        return [], ""
    if include_golden:
        return [], (f"the {len(golden)} image(s) of the golden set '{name}' are trained on: the gate's figures on "
                    f"them will flatter the new model")
    return golden, f"the {len(golden)} image(s) of the golden set '{name}' are left out of training"
