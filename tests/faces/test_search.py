"""The tenant-filtered search: HNSW with iterative scan finds what exact search finds, other
tenants' templates never come back, and the benchmark's synthetic tenants leave no trace."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import Select, event, func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from tests.images import FACES_DIR
from visage.core.db import Database
from visage.faces import service
from visage.faces.bench import OTHER_TENANTS, SyntheticGallery, mean_face, synthetic_gallery
from visage.faces.models import FaceTemplate
from visage.identity.models import Tenant
from visage.members.models import Member

TEMPLATES = 400


@pytest.fixture(scope="module")
def center() -> npt.NDArray[np.float32]:
    return mean_face(FACES_DIR)


@pytest.fixture(scope="module")
def gallery(database: Database, center: npt.NDArray[np.float32]) -> Iterator[SyntheticGallery]:
    with synthetic_gallery(database, center) as built:
        built.grow(TEMPLATES)
        yield built


def test_filtered_hnsw_agrees_with_exact_search(
    database: Database, gallery: SyntheticGallery
) -> None:
    probes = gallery.probes(10)
    agreements = 0
    with database.session() as session:
        tenant_members = set(
            session.scalars(select(Member.id).where(Member.tenant_id == gallery.target))
        )
        for probe in probes:
            exact = service.nearest_members(session, gallery.target, probe, members=5, exact=True)
            hnsw = service.nearest_members(session, gallery.target, probe, members=5, exact=False)
            # The filtered index search still fills the page with this tenant's members ...
            assert len(exact) == len(hnsw) == 5
            assert {c.member_id for c in hnsw} <= tenant_members
            distances = [c.distance for c in hnsw]
            assert distances == sorted(distances)
            agreements += hnsw[0] == exact[0]
    # ... and finds the true nearest one almost always (approximate by design: galleries
    # small enough to be searched exactly are, see EXACT_SEARCH_MAX_TEMPLATES).
    assert agreements >= 8


@contextmanager
def vector_searches(database: Database) -> Iterator[list[str]]:
    """The nearest-template statements run inside the block."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statement = args[2]
        if "ORDER BY" in statement and "face_templates.embedding <->" in statement:
            statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def test_an_hnsw_search_that_finds_nobody_close_is_checked_exactly(
    database: Database, gallery: SyntheticGallery
) -> None:
    (member,) = gallery.probes(1)
    stranger = member + 1.0  # about 11 from every template
    with database.session() as session:
        with vector_searches(database) as searches:
            found = service.nearest_members(
                session, gallery.target, member, members=2, exact=False, within=0.6
            )
        assert found[0].distance <= 0.6
        assert len(searches) == 1  # the index answered: someone is that close
        with vector_searches(database) as searches:
            found = service.nearest_members(
                session, gallery.target, stranger, members=2, exact=False, within=0.6
            )
        exact = service.nearest_members(session, gallery.target, stranger, members=2, exact=True)
        assert len(searches) == 2  # "nobody" is the exact scan's answer
        assert found == exact


def test_synthetic_tenants_are_deleted(database: Database, center: npt.NDArray[np.float32]) -> None:
    with synthetic_gallery(database, center) as built:
        built.grow(10)
        tenants = built.tenants
    assert len(tenants) == OTHER_TENANTS + 1
    with database.session() as session:
        assert session.scalar(select(func.count()).where(Tenant.id.in_(tenants))) == 0
        left = select(func.count()).where(FaceTemplate.tenant_id.in_(tenants))
        assert session.scalar(left) == 0


def test_probes_are_near_their_source(gallery: SyntheticGallery) -> None:
    probes = gallery.probes(5)
    nearest = np.linalg.norm(gallery.target_vectors[None] - probes[:, None], axis=-1).min(axis=1)
    assert nearest.max() < 0.6


def _plan(session: Session, statement: Select[Any]) -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    sql = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return "\n".join(session.execute(text(f"EXPLAIN {sql}")).scalars())


def test_hnsw_path_uses_the_vector_index_and_exact_path_does_not(
    database: Database, gallery: SyntheticGallery
) -> None:
    (probe,) = gallery.probes(1)
    with database.session() as session:
        hnsw = service.nearest_templates_statement(gallery.target, probe, 25, exact=False)
        with service.hnsw_search(session, 25):
            assert "ix_face_templates_embedding_hnsw" in _plan(session, hnsw)
        exact = service.nearest_templates_statement(gallery.target, probe, 25, exact=True)
        assert "ix_face_templates_embedding_hnsw" not in _plan(session, exact)
