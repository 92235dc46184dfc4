"""docs/permissions.md documents the permission matrix of identity/permissions.py exactly."""

from pathlib import Path

from visage.identity.models import Role
from visage.identity.permissions import DEVICE_PERMISSIONS, ROLE_PERMISSIONS, Permission

DOC = Path(__file__).parents[2] / "docs" / "permissions.md"
KIOSK = "kiosk"


def _documented_matrix() -> dict[str, set[str]]:
    """{column: {permission}} read from the table whose header starts with `permission`."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in DOC.read_text().splitlines()
        if line.startswith("|")
    ]
    header_index = next(i for i, row in enumerate(rows) if row[0] == "permission")
    header = [cell.strip("`") for cell in rows[header_index]]
    matrix: dict[str, set[str]] = {column: set() for column in header[2:]}
    permissions_seen = []
    for row in rows[header_index + 2 :]:
        if not row[0].startswith("`"):
            break
        permission = row[0].strip("`")
        permissions_seen.append(permission)
        for column, mark in zip(header[2:], row[2:], strict=True):
            if mark == "✓":
                matrix[column].add(permission)
    assert len(permissions_seen) == len(set(permissions_seen)), "a permission is listed twice"
    assert set(permissions_seen) == {p.value for p in Permission}, "permissions differ"
    return matrix


def test_document_matches_code() -> None:
    documented = _documented_matrix()
    expected = {role.value: {p.value for p in ROLE_PERMISSIONS[role]} for role in Role}
    expected[KIOSK] = {p.value for p in DEVICE_PERMISSIONS}
    assert documented == expected
