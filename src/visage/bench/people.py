"""`visage bench people LFW_DIR`: selfie search precision and recall in an event of real faces.

The labeled photos are composed into an event (`bench.lfw_events`, cached under --cache, in
/tmp by default, embeddings included); the faces are stored and grouped into people through
the worker's own `store_faces` in a throw-away tenant (deleted at the end), and every
held-back selfie is searched with the service's `matches_for_template`. Printed beside it:
the former rule (every photo with a face within 0.6 of the selfie) on the same faces, and the
stranger rates FMR_k(d) and FMR_{j,k}(d) measured on these faces (`bench.people_rates`) with
the shipped lines.

Measured on the rates' own faces, the figures are optimistic. `--held-out` cuts the people in
two halves and searches each with rates measured on the other only (the service's code run
under `matching.using_rates`); `--write-rates FILE` writes the rates of every person (how the
shipped `events/stranger_rates_lfw.json` is made).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import numpy as np
import numpy.typing as npt
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import delete

from visage.bench.lfw_events import ComposedEvent, compose_event
from visage.bench.people_rates import (
    identity_halves,
    measured_rates,
    probe_stranger_distances,
    stranger_distances,
)
from visage.config import get_settings
from visage.core.db import Database
from visage.core.migrations import migrated_database
from visage.core.tenancy import TenantId, TenantScope
from visage.events import matching
from visage.events.indexing import IndexTarget, store_faces
from visage.events.models import Event, Person, Photo, Visibility
from visage.events.search import matches_for_template
from visage.events.stranger_rates import MAX_MEMBERS, StrangerRates, fit_fmr_line
from visage.faces.protection import tenant_protector
from visage.identity.models import Tenant

console = Console(width=120)
FORMER_TOLERANCE = 0.6
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "visage-lfw-events"
SHOWN_DISTANCES = (0.40, 0.45, 0.50, 0.55, 0.60)
# (nearest, further) budgets: the service's, then each moved alone, to show what recall costs
# in precision.
FALSE_RATES = (
    (matching.NEAREST_FALSE_RATE, matching.FALSE_MATCH_RATE),
    (matching.NEAREST_FALSE_RATE, 0.05),
    (matching.NEAREST_FALSE_RATE, 0.1),
    (0.05, matching.FALSE_MATCH_RATE),
    (1.0, matching.FALSE_MATCH_RATE),
)
RATES_HOW = (
    "visage bench people DIR --write-rates FILE: the photos composed into group photos "
    "(bench.lfw_events), faces found by the event detector, one held-back selfie per person; "
    "strangers: every selfie (and consensus probe) against k random faces of each other person"
)


@dataclass(frozen=True)
class Accuracy:
    precision: float
    recall: float
    returned: float  # photos per search

    @classmethod
    def of(cls, found: list[set[int]], expected: list[set[int]]) -> Accuracy:
        precisions = [
            len(f & e) / len(f) if f else 1.0 for f, e in zip(found, expected, strict=True)
        ]
        recalls = [len(f & e) / len(e) for f, e in zip(found, expected, strict=True)]
        return cls(
            float(np.mean(precisions)),
            float(np.mean(recalls)),
            float(np.mean([len(f) for f in found])),
        )


def _searchers(event: ComposedEvent) -> list[tuple[int, npt.NDArray[np.float32], set[int]]]:
    """(person, selfie, their photos) of every selfie whose person is in the event."""
    found = []
    for person, selfie in zip(event.selfie_people, event.selfie_vectors, strict=True):
        photos = event.photos_of(int(person))
        if photos:
            found.append((int(person), selfie, photos))
    return found


def former_rule(event: ComposedEvent) -> Accuracy:
    """Every photo with a usable face within 0.6 of the selfie."""
    usable = event.face_details[:, 6] > 0
    vectors, photos = event.face_vectors[usable], event.face_photos[usable]
    found, expected = [], []
    for _, selfie, theirs in _searchers(event):
        near = np.linalg.norm(vectors - selfie, axis=1) <= FORMER_TOLERANCE
        found.append({int(photo) for photo in photos[near]})
        expected.append(theirs)
    return Accuracy.of(found, expected)


@contextmanager
def throwaway_event(database: Database) -> Iterator[uuid.UUID]:
    tenant_id = uuid.uuid4()
    slug = f"bench-people-{tenant_id.hex[:12]}"
    with database.session() as session:
        session.add(Tenant(id=tenant_id, name=slug, slug=slug))
        session.flush()
        event = TenantScope(session, TenantId(tenant_id)).add(
            Event(
                name=slug,
                slug=slug,
                event_date=date.today(),
                visibility=Visibility.PUBLIC,
                access_code=tenant_id.hex[:16].upper(),
                expires_at=datetime.now(UTC) + timedelta(days=1),
            )
        )
        session.flush()
        event_id = event.id
    try:
        yield event_id
    finally:
        with database.session() as session:
            session.execute(delete(Tenant).where(Tenant.id == tenant_id))


def people_rule(
    event: ComposedEvent, database: Database, progress: Callable[[str], None]
) -> tuple[dict[tuple[float, float], Accuracy], int, float]:
    """(accuracy at each false-match budget, people formed, seconds to index) through the
    service's own code."""
    settings = get_settings()
    rng = np.random.default_rng(1)
    with throwaway_event(database) as event_id:
        with database.session() as session:
            stored = session.get_one(Event, event_id)
            scope = TenantScope(session, TenantId(stored.tenant_id))
            photo_ids = []
            for index in range(event.photo_count):
                photo = scope.add(
                    Photo(
                        event_id=event_id,
                        filename=f"{index:05d}.jpg",
                        content_hash=f"{index:064d}",
                        format="jpeg",
                        size_bytes=1,
                        width=1000,
                        height=250,
                    )
                )
                session.flush()
                photo_ids.append(photo.id)
            tenant_id = stored.tenant_id
        started = time.perf_counter()
        for count, index in enumerate(rng.permutation(event.photo_count), start=1):
            with database.session() as session:
                store_faces(
                    session,
                    IndexTarget(photo_ids[index], tenant_id, ""),
                    event.found_faces(int(index)),
                    started=time.monotonic(),
                )
            if count % 100 == 0:
                progress(f"indexed {count}/{event.photo_count} photos")
        seconds = time.perf_counter() - started
        photo_index = {photo_id: index for index, photo_id in enumerate(photo_ids)}
        accuracy = {}
        with database.session() as session:
            stored = session.get_one(Event, event_id)
            scope = TenantScope(session, TenantId(tenant_id))
            protector = tenant_protector(session, tenant_id)
            people = session.query(Person).filter(Person.event_id == event_id).count()
            searchers = _searchers(event)
            templates = [
                [float(v) for v in protector.protect(selfie)] for _, selfie, _ in searchers
            ]
            for nearest, further in FALSE_RATES:
                found = [
                    {
                        photo_index[match.photo_id]
                        for match in matches_for_template(
                            scope,
                            stored,
                            template,
                            settings,
                            limit=500,
                            nearest_false_rate=nearest,
                            further_false_rate=further,
                        )
                    }
                    for template in templates
                ]
                accuracy[(nearest, further)] = Accuracy.of(
                    found, [theirs for _, _, theirs in searchers]
                )
    return accuracy, people, seconds


def _results_table(
    title: str, former: Accuracy, people: dict[tuple[float, float], Accuracy], formed: int
) -> Table:
    results = Table(title=title)
    for column in ("rule", "precision", "recall", "photos per search"):
        results.add_column(column)
    results.add_row(
        f"every face within {FORMER_TOLERANCE}",
        f"{former.precision:.3f}",
        f"{former.recall:.3f}",
        f"{former.returned:.1f}",
    )
    for (nearest, further), accuracy in people.items():
        chosen = (
            " (the service's)"
            if (nearest, further) == (matching.NEAREST_FALSE_RATE, matching.FALSE_MATCH_RATE)
            else ""
        )
        results.add_row(
            f"{formed} people, nearest at {nearest}, further at {further} strangers{chosen}",
            f"{accuracy.precision:.3f}",
            f"{accuracy.recall:.3f}",
            f"{accuracy.returned:.1f}",
        )
    return results


def _print_rates(event: ComposedEvent, shipped: StrangerRates) -> None:
    """The strangers measured on `event` beside the shipped lines."""
    found = stranger_distances(event)
    table = Table(title="Stranger rate FMR_k(d): measured here / shipped line")
    table.add_column("d")
    for k in found:
        table.add_column(f"k={k}" if k < MAX_MEMBERS else f"k≥{k}")
    for distance in SHOWN_DISTANCES:
        table.add_row(
            f"{distance:.2f}",
            *(
                f"{np.mean(found[k] <= distance):.1e} / {shipped.face_line(k).fmr(distance):.1e}"
                for k in found
            ),
        )
    console.print(table)
    for key, distances in (*found.items(), *probe_stranger_distances(event).items()):
        line = fit_fmr_line(distances)
        j, k = key if isinstance(key, tuple) else (1, key)
        ships = shipped.probe_line(j, k)
        console.print(
            f"j={j}, k={k}: {len(distances)} stranger pairs, log10 FMR = "
            f"{line.intercept:.3f} + {line.slope:.3f} d (shipped: "
            f"{ships.intercept:.3f} + {ships.slope:.3f} d)"
        )


def _held_out(event: ComposedEvent, database: Database) -> None:
    """Each half of the people searched with the rates measured on the other half, in an event
    of their own faces and in one with everyone's faces (the other half's only stand in the
    way); beside it, the same searches with rates measured on the event itself."""
    table = Table(title="Selfie search with held-out stranger rates: precision / recall")
    for column in ("searched", "event", "rates of", "people formed"):
        table.add_column(column)
    for nearest, further in FALSE_RATES:
        table.add_column(f"nearest {nearest}, further {further}")
    everyone = np.arange(len(event.people), dtype=np.int32)
    halves = identity_halves(event)
    for name, (searched, other) in (("A", halves), ("B", halves[::-1])):
        for event_name, faces_of in ((f"half {name}", searched), ("everyone", everyone)):
            tried = event.restricted(faces_of, searched)
            usable = tried.face_details[:, 6] > 0
            measured_on = (
                (f"half {'B' if name == 'A' else 'A'} (held out)", event.restricted(other, other)),
                (f"{event_name} (in sample)", event.restricted(faces_of, faces_of)),
            )
            for rates_name, rates_event in measured_on:
                with matching.using_rates(measured_rates(rates_event, {})):
                    accuracy, formed, _ = people_rule(tried, database, lambda _: None)
                table.add_row(
                    f"{len(_searchers(tried))} of half {name}",
                    f"{len(np.unique(tried.face_people[usable]))} people, "
                    f"{int(usable.sum())} faces",
                    rates_name,
                    str(formed),
                    *(f"{one.precision:.3f} / {one.recall:.3f}" for one in accuracy.values()),
                )
    console.print(table)


def bench_people(
    directory: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="Labeled faces: <Person>/*.jpg")
    ],
    cache: Annotated[
        Path, typer.Option(help="Where the composed photos and their embeddings go")
    ] = DEFAULT_CACHE,
    held_out: Annotated[
        bool,
        typer.Option(
            "--held-out",
            help="Search each half of the people with stranger rates measured on the other",
        ),
    ] = False,
    write_rates: Annotated[
        Path | None,
        typer.Option(
            help="Write the stranger rates measured on every person here (the shipped file: "
            "src/visage/events/stranger_rates_lfw.json)"
        ),
    ] = None,
) -> None:
    """Selfie search by person vs. by single face, on group photos composed from real faces."""
    from visage.faces.inference.engine import load_backend

    settings = get_settings()
    load_backend(settings)
    cache.mkdir(parents=True, exist_ok=True)
    event = compose_event(directory, cache, settings)
    usable = event.face_details[:, 6] > 0
    console.print(
        f"{event.photo_count} group photos, {int(usable.sum())} usable faces of "
        f"{len(np.unique(event.face_people[usable]))} people, "
        f"{len(_searchers(event))} searchers with a held-back selfie"
    )
    if write_rates is not None:
        measured_rates(event, {"dataset": directory.name, "how": RATES_HOW}).write(write_rates)
        console.print(f"Stranger rates written to {write_rates}")
    _print_rates(event, matching.rates_in_use())
    if held_out:
        _held_out(event, migrated_database())
        return
    people, formed, seconds = people_rule(event, migrated_database(), console.print)
    console.print(_results_table("Selfie search", former_rule(event), people, formed))
    console.print(f"Indexed through store_faces in {seconds:.1f} s ({event.photo_count} photos).")
