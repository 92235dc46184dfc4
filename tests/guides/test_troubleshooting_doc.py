"""docs/troubleshooting.md cannot rot: each of its shell blocks (marked `bash runnable`) runs
against a live Visage and must succeed; a shell block not marked runnable is an error. Like the
seeds, it is organized symptom → diagnosis → fix, for every domain."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSWORD, free_port
from tests.guides.conftest import Reader
from tests.guides.databases import scratch_database
from tests.guides.situations import SOURCE_DIR
from visage.config import Settings

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SHELLS = {"bash", "sh", "shell", "console"}


def blocks() -> list[tuple[str, str]]:
    return [(info.strip(), body) for info, body in FENCE.findall(GUIDE.read_text())]


def runnable_blocks() -> list[str]:
    return [body for info, body in blocks() if info == "bash runnable"]


def sections(level: str) -> dict[str, str]:
    """{title: text} of the guide's sections at `level` ("## " or "### ")."""
    parts = re.split(rf"^{level}(.+)$", FENCE.sub("", GUIDE.read_text()), flags=re.MULTILINE)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


@pytest.mark.parametrize(
    "domain",
    ["Database", "Authentication", "Face recognition", "Billing", "Messaging", "Publishing"],
)
def test_each_domain_has_runnable_diagnoses(domain: str) -> None:
    text = GUIDE.read_text()
    titles = [title for title in sections("## ") if title.startswith(domain)]
    assert titles, f"no section for {domain}"
    start = text.index(f"## {titles[0]}\n")
    end = text.find("\n## ", start + 1)
    assert "```bash runnable" in text[start : end if end > 0 else None], domain


def test_every_problem_names_its_fix() -> None:
    problems = sections("### ")
    assert len(problems) >= 20
    missing = [title for title, body in problems.items() if "**Fix**" not in body]
    assert not missing, missing


def test_every_shell_block_is_runnable() -> None:
    shell = [info for info, _ in blocks() if info.split(" ")[0] in SHELLS]
    assert shell, "the guide has no shell block"
    assert all(info == "bash runnable" for info in shell), shell


@pytest.fixture(scope="module")
def installation(settings: Settings) -> Iterator[str]:
    """The database the reader's `visage` commands (doctor, migrate) see: a clean one at head.
    The test run's own holds other tests' deliberately broken rows (EXPIRED social accounts,
    stray indexes), which doctor would rightly fail on."""
    with scratch_database(settings, revision="head") as url:
        yield url


@pytest.mark.parametrize("block", runnable_blocks(), ids=lambda b: b.strip().splitlines()[0][:50])
def test_block_runs_against_a_live_visage(
    block: str,
    live_server: str,
    reader: Reader,
    settings: Settings,
    installation: str,
    tmp_path: Path,
) -> None:
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "PYTHONPATH": str(SOURCE_DIR),
        "VISAGE_URL": live_server,
        "VISAGE_DATA_DIR": str(settings.visage_data_dir),
        "VISAGE_USER": reader.owner.username,
        "VISAGE_PASSWORD": TEST_PASSWORD,
        "VISAGE_TOKEN": reader.api_token,
        "DATABASE_URL": installation,
        # `visage doctor` checks that its own port is free; the live server holds another.
        "API_PORT": str(free_port()),
    }
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, (
        f"{block}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    assert result.stdout.strip(), block  # every block shows the reader something
