"""Fixtures of the studio's in-process tests: a copy of the project's data/ as the content dir."""

import shutil

import pytest

from studio.content import FaqContent
from studio.promotions import PromotionTable
from studio.settings import PROJECT_ROOT, StudioSettings


@pytest.fixture()
def settings(tmp_path) -> StudioSettings:
    """Studio settings on a fresh copy of data/ in the test's directory."""
    shutil.copytree(PROJECT_ROOT / "data", tmp_path / "data")
    return StudioSettings(content_dir=tmp_path)


@pytest.fixture()
def content(settings) -> FaqContent:
    """The FAQ topics of that copy."""
    return FaqContent(settings)


@pytest.fixture()
def table(settings) -> PromotionTable:
    """The promotion table of that copy."""
    return PromotionTable(settings)
