"""Installation script for braindecode-augnet."""

import re
from pathlib import Path

from setuptools import find_packages, setup

here = Path(__file__).parent
version = re.search(
    r'^__version__ = "([^"]+)"',
    (here / "braindecode_augnet" / "_version.py").read_text(),
    re.M,
).group(1)

setup(
    name="braindecode-augnet",
    version=version,
    description=(
        "AugNet for braindecode: EEG augmentation invariances learned from the "
        "training data, inside the network (Rommel, Moreau & Gramfort, NeurIPS 2022)."
    ),
    long_description=(here / "README.rst").read_text(),
    long_description_content_type="text/x-rst",
    license="BSD-3-Clause",
    python_requires=">=3.11",
    packages=find_packages(include=["braindecode_augnet", "braindecode_augnet.*"]),
    include_package_data=True,
    install_requires=[
        "braindecode>=1.8",
        "mne>=1.6",
        # torch and torchaudio must be an exact pair of releases (braindecode
        # imports torchaudio): see requirements-torch.txt for the tested pair.
        "torch>=2.2",
        "torchaudio>=2.2",
        "skorch>=1.0",
        "scikit-learn>=1.3",
        "scipy>=1.10",
        "numpy>=1.24",
        "pandas>=2.0",
        "matplotlib>=3.7",
    ],
    extras_require={
        "test": [
            "pytest>=7",
            "hypothesis>=6",
            "ruff>=0.5",
            "edfio>=0.4",
            "moabb>=1.1",
            "accelerate>=0.28",
        ],
        "moabb": ["moabb>=1.1"],
        "accelerate": ["accelerate>=0.28"],
        "docs": [
            "sphinx>=7",
            "sphinx-gallery>=0.15",
            "numpydoc>=1.6",
            "pydata-sphinx-theme>=0.15",
        ],
    },
    entry_points={"console_scripts": ["braindecode-augnet=braindecode_augnet.study.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: BSD License",
        "Topic :: Scientific/Engineering",
    ],
)
