"""Build hook: the wheel carries the top-level `templates/`, `alembic/` and `alembic.ini`
inside the `app` package (as `app/_project/`), where `app.config.project_path` finds them
once installed; in a checkout they stay where they are."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PROJECT_FILES = ("templates", "alembic", "alembic.ini")


class BuildWithProjectFiles(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads them from the checkout
        target = Path(self.build_lib) / "app" / "_project"
        for name in PROJECT_FILES:
            source = Path(name)
            if source.is_dir():
                shutil.copytree(
                    source,
                    target / name,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                    dirs_exist_ok=True,
                )
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildWithProjectFiles})
