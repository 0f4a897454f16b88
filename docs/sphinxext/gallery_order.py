"""Order of the examples within each section of the gallery.

``docs/conf.py`` names :class:`ExampleOrder` in ``within_subsection_order``
(as a string, so that the Sphinx configuration stays picklable).
"""

#: File names in the order they are shown: what users come for first (a full
#: sleep-staging run), then variations of it, then examples not executed when
#: the documentation is built. Files not listed come last, by name.
EXAMPLE_ORDER = [
    # sleep_staging/
    "plot_sleep_staging.py",
    "plot_sequence_sleep_staging.py",
    "plot_synthetic_vs_real.py",
    "mass_sleep_staging.py",
    # learned_policies/
    "plot_policy_and_invariance.py",
    "plot_fixed_transforms.py",
    "plot_planted_invariances.py",
    # motor_imagery/
    "moabb_motor_imagery.py",
    # toy_problems/
    "plot_sinusoid_invariance.py",
    "plot_capacity_study.py",
]


class ExampleOrder:
    """Sort key of sphinx-gallery: rank in :data:`EXAMPLE_ORDER`, then name.

    Parameters
    ----------
    src_dir : str
        The gallery (sub)folder being sorted (unused).
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = str(filename)
        rank = (
            EXAMPLE_ORDER.index(name) if name in EXAMPLE_ORDER else len(EXAMPLE_ORDER)
        )
        return rank, name

    def __repr__(self):
        return f"<{type(self).__name__}>"
