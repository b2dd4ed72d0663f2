"""Packages for setuptools; everything else is in pyproject.toml.

assets/ and samples/ stay at the top of the repository (the README's commands use
samples/...), and a wheel ships them inside the package as studio/assets and
studio/samples, read through importlib.resources (studio/resources.py)."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["studio", "studio.*"]) + ["studio.assets", "studio.assets.icons", "studio.samples"],
    package_dir={"studio.assets": "assets", "studio.samples": "samples"},
    package_data={"studio": ["py.typed"], "studio.assets.icons": ["*.svg"], "studio.samples": ["*.studio.json"]},
    exclude_package_data={"studio.samples": ["*.py"]},
)
