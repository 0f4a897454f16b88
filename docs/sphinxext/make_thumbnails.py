"""Draw the gallery thumbnails of the examples that the build does not run.

The MASS and MOABB examples need data that the documentation build cannot
download, so sphinx-gallery shows them without running them, with the
picture their ``# sphinx_gallery_thumbnail_path`` comment names instead of a
figure of their own. This script draws those pictures (no data needed) into
``docs/_static/thumbnails``; run it from the root of the repository after
changing it::

    python docs/sphinxext/make_thumbnails.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from braindecode_augnet.channels import (  # noqa: E402
    hemisphere_symmetric_permutation,
    standard_positions,
)
from braindecode_augnet.datasets import simulate_hypnogram  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "_static" / "thumbnails"
# sphinx-gallery's thumbnails are 400 x 280 pixels
SIZE = (4.0, 2.8)
DPI = 100

#: The 22 EEG channels of BNCI2014_001 (BCI Competition IV 2a).
BNCI2014_001 = [
    "Fz", "FC3", "FC1", "FCz", "FC2", "FC4", "C5", "C3", "C1", "Cz", "C2",
    "C4", "C6", "CP3", "CP1", "CPz", "CP2", "CP4", "P1", "Pz", "P2", "POz",
]  # fmt: skip


def mass_thumbnail(path):
    """A (simulated) hypnogram: the MASS example stages whole nights."""
    stages = simulate_hypnogram(8 * 120, random_state=3)
    order = [0, 4, 1, 2, 3]  # W, REM, N1, N2, N3 from top to bottom
    level = np.empty(5, dtype=int)
    level[order] = -np.arange(5)
    hours = np.arange(len(stages)) * 30 / 3600
    fig, ax = plt.subplots(figsize=SIZE, dpi=DPI, layout="constrained")
    ax.step(hours, level[stages], where="post", lw=1.6, color="C0")
    ax.set_yticks(level[order], ["W", "REM", "N1", "N2", "N3"], fontsize=12)
    ax.set_xlabel("time (h)", fontsize=12)
    ax.set_title("MASS SS3: whole nights", fontsize=14)
    ax.tick_params(axis="x", labelsize=11)
    fig.savefig(path)
    plt.close(fig)


def moabb_thumbnail(path):
    """The 22 electrodes of BNCI2014_001, rotated and mirrored."""
    pos = standard_positions(BNCI2014_001)
    pos = pos / np.linalg.norm(pos, axis=1, keepdims=True)
    # azimuthal equidistant projection seen from above (nose up)
    radius = np.arccos(np.clip(pos[:, 2], -1, 1))
    angle = np.arctan2(pos[:, 1], pos[:, 0])
    xy = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    theta = np.deg2rad(20)
    rotation = np.array(
        [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
    )
    rotated = xy @ rotation.T
    mirror = hemisphere_symmetric_permutation(BNCI2014_001)
    lateral = np.array([i != j for i, j in enumerate(mirror)])

    fig, ax = plt.subplots(figsize=SIZE, dpi=DPI, layout="constrained")
    head = plt.Circle((0, 0), 1.25, fill=False, lw=1.5, color="0.3")
    ax.add_patch(head)
    ax.plot([-0.12, 0, 0.12], [1.24, 1.42, 1.24], color="0.3", lw=1.5)  # nose
    for (x0, y0), (x1, y1) in zip(xy, rotated):
        ax.annotate(
            "",
            (x1, y1),
            (x0, y0),
            arrowprops={"arrowstyle": "->", "color": "C1", "lw": 1.0},
        )
    ax.scatter(*xy[~lateral].T, s=36, color="0.4", zorder=3)
    ax.scatter(*xy[lateral].T, s=36, color="C0", zorder=3)
    ax.set_title("Motor imagery: sensor rotation", fontsize=14)
    ax.set_aspect("equal")
    ax.set_xlim(-2.0, 2.0)
    ax.set_ylim(-1.35, 1.5)
    ax.axis("off")
    fig.savefig(path)
    plt.close(fig)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    mass_thumbnail(OUT / "mass_sleep_staging.png")
    moabb_thumbnail(OUT / "moabb_motor_imagery.png")


if __name__ == "__main__":
    main()
