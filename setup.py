"""Build hook: the wheel carries the configs. ``conf/`` stays the one source in the repository;
a built (non-editable) package gets a copy of it as ``vad/conf`` (``vad.utils.configs``)."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithConfigs(build_py):
    """``build_py`` that also copies ``conf/`` into the built package."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            self.copy_tree("conf", str(Path(self.build_lib) / "vad" / "conf"))


setup(cmdclass={"build_py": BuildWithConfigs})
