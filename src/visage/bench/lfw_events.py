"""Event photos composed from a labeled face set (LFW, `../shared/calibration/lfw/`), for
measuring people clustering and selfie search on real faces that never enter the repository.

Each person with at least two photos keeps one back as their selfie; every other photo of
everyone is a face in the event. The event faces are shuffled into group photos of
`GROUP_SIZE` portraits side by side (no one twice in a photo), and each group photo goes
through the event detector (`find_faces`), so the embeddings are those a real upload gets.
The group photos are written under the cache folder (in /tmp), never into the project.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from visage.config import Settings
from visage.core.images import ImageLimits, decode_image
from visage.events.detection import FoundFace, find_faces
from visage.faces.pipeline import analyze, largest

GROUP_SIZE = 4
TILE = 250  # LFW photos are 250 x 250
SEED = 12  # the composition is the same on every run
CACHE_NAME = "lfw-events.npz"

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ComposedEvent:
    """Faces found in the composed group photos, and one selfie per searcher."""

    face_vectors: Vectors  # (F, 128) raw embeddings
    face_people: npt.NDArray[np.int32]  # (F,) who each face is (by its tile)
    face_photos: npt.NDArray[np.int32]  # (F,) which group photo it is in
    face_details: npt.NDArray[np.float64]  # (F, 8) left top right bottom score sharpness
    # usable analyzed_width
    selfie_vectors: Vectors  # (S, 128)
    selfie_people: npt.NDArray[np.int32]  # (S,)
    people: list[str]  # index -> LFW name
    photo_count: int

    def restricted(
        self, faces_of: npt.NDArray[np.int32], selfies_of: npt.NDArray[np.int32]
    ) -> ComposedEvent:
        """The same photos with only the faces of `faces_of` (the others' cut out) and only
        the selfies of `selfies_of`."""
        faces = np.isin(self.face_people, faces_of)
        selfies = np.isin(self.selfie_people, selfies_of)
        return ComposedEvent(
            self.face_vectors[faces],
            self.face_people[faces],
            self.face_photos[faces],
            self.face_details[faces],
            self.selfie_vectors[selfies],
            self.selfie_people[selfies],
            self.people,
            self.photo_count,
        )

    def photos_of(self, person: int) -> set[int]:
        usable = self.face_details[:, 6] > 0
        return {int(photo) for photo in self.face_photos[(self.face_people == person) & usable]}

    def found_faces(self, photo: int) -> list[FoundFace]:
        """The faces `find_faces` found in one group photo."""
        return [
            FoundFace(
                box=dict(
                    zip(("left", "top", "right", "bottom"), map(int, details[:4]), strict=True)
                ),
                score=float(details[4]),
                sharpness=float(details[5]),
                usable=bool(details[6]),
                embedding=vector,
                analyzed_width=int(details[7]),
            )
            for vector, details in zip(
                self.face_vectors[self.face_photos == photo],
                self.face_details[self.face_photos == photo],
                strict=True,
            )
        ]


def _people(directory: Path) -> dict[str, list[Path]]:
    found = {}
    for folder in sorted(path for path in directory.iterdir() if path.is_dir()):
        photos = sorted(folder.glob("*.jpg"))
        if photos:
            found[folder.name] = photos
    return found


def _groups(
    tiles: list[tuple[int, Path]], rng: np.random.Generator
) -> list[list[tuple[int, Path]]]:
    """Shuffled tiles cut into groups in which nobody appears twice."""
    tiles = [tiles[index] for index in rng.permutation(len(tiles))]
    groups: list[list[tuple[int, Path]]] = []
    for tile in tiles:
        home = next(
            (
                group
                for group in groups[-8:]
                if len(group) < GROUP_SIZE and all(tile[0] != other[0] for other in group)
            ),
            None,
        )
        if home is None:
            groups.append([tile])
        else:
            home.append(tile)
    return groups


def _compose(group: list[tuple[int, Path]]) -> bytes:
    canvas = Image.new("RGB", (TILE * len(group), TILE), (90, 110, 130))
    for index, (_, path) in enumerate(group):
        canvas.paste(Image.open(path).convert("RGB"), (index * TILE, 0))
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _selfie_vector(path: Path, settings: Settings) -> Vectors | None:
    decoded = decode_image(path.read_bytes(), ImageLimits.from_settings(settings))
    usable = [analysis for analysis in analyze(decoded.rgb, "kiosk") if analysis.usable]
    return largest(usable).embedding if usable else None


def compose_event(directory: Path, cache: Path, settings: Settings) -> ComposedEvent:
    """The composed event of `directory`, from the cache when it was built before."""
    cached = cache / CACHE_NAME
    if cached.exists():
        data = np.load(cached, allow_pickle=False)
        return ComposedEvent(
            data["face_vectors"],
            data["face_people"],
            data["face_photos"],
            data["face_details"],
            data["selfie_vectors"],
            data["selfie_people"],
            [str(name) for name in data["people"]],
            int(data["photo_count"]),
        )
    rng = np.random.default_rng(SEED)
    people = _people(directory)
    names = list(people)
    tiles: list[tuple[int, Path]] = []
    selfies: list[tuple[int, Path]] = []
    for index, name in enumerate(names):
        photos = list(people[name])
        if len(photos) >= 2:
            selfies.append((index, photos.pop(int(rng.integers(len(photos))))))
        tiles.extend((index, photo) for photo in photos)
    groups = _groups(tiles, rng)
    photos_dir = cache / "group-photos"
    photos_dir.mkdir(parents=True, exist_ok=True)
    vectors, face_people, face_photos, details = [], [], [], []
    for photo_index, group in enumerate(groups):
        data = _compose(group)
        (photos_dir / f"{photo_index:05d}.jpg").write_bytes(data)
        for face in find_faces(data, settings):
            centre = (face.box["left"] + face.box["right"]) // 2
            vectors.append(face.embedding)
            face_people.append(group[min(centre // TILE, len(group) - 1)][0])
            face_photos.append(photo_index)
            details.append(
                [
                    *(face.box[side] for side in ("left", "top", "right", "bottom")),
                    face.score,
                    face.sharpness,
                    float(face.usable),
                    face.analyzed_width,
                ]
            )
    selfie_vectors, selfie_people = [], []
    for person, path in selfies:
        vector = _selfie_vector(path, settings)
        if vector is not None:
            selfie_vectors.append(vector)
            selfie_people.append(person)
    event = ComposedEvent(
        np.asarray(vectors, dtype=np.float32),
        np.asarray(face_people, dtype=np.int32),
        np.asarray(face_photos, dtype=np.int32),
        np.asarray(details, dtype=np.float64).reshape(-1, 8),
        np.asarray(selfie_vectors, dtype=np.float32),
        np.asarray(selfie_people, dtype=np.int32),
        names,
        len(groups),
    )
    np.savez(
        cached,
        face_vectors=event.face_vectors,
        face_people=event.face_people,
        face_photos=event.face_photos,
        face_details=event.face_details,
        selfie_vectors=event.selfie_vectors,
        selfie_people=event.selfie_people,
        people=np.asarray(names),
        photo_count=event.photo_count,
    )
    return event
