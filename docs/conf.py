"""Sphinx configuration of the braindecode-augnet documentation.

Build offline, warnings as errors, from the repository root::

    bash docs/build.sh
    # i.e. python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import sys
import warnings
from datetime import date

# Import the package from this checkout even without an editable install.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Third-party warnings printed at import or example time are not ours to fix.
warnings.filterwarnings("ignore", message="Montage name 'standard_1020'")
warnings.filterwarnings("ignore", category=DeprecationWarning, module="mne_bids")

import braindecode_augnet  # noqa: E402

# -- Project -----------------------------------------------------------------
project = "braindecode-augnet"
author = "braindecode-augnet developers"
copyright = f"{date.today().year}, {author}"
release = braindecode_augnet.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "Thumbs.db",
    ".DS_Store",
    "**.ipynb_checkpoints",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.codeobj.json",
    "auto_examples/*.md5",
]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"  # `x` renders as code, never as an unresolvable ref
pygments_style = "sphinx"

# No intersphinx: the build must run without network access. References to
# torch, braindecode, skorch, ... render as plain code (nitpicky is off).
nitpicky = False

# -- autodoc / autosummary -----------------------------------------------------
autosummary_generate = True  # stubs go to docs/generated (git-ignored)
autosummary_generate_overwrite = True
autosummary_imported_members = False
autodoc_typehints = "none"  # types are in the numpydoc sections
autoclass_content = "class"
autodoc_member_order = "bysource"
autodoc_preserve_defaults = True  # criterion=torch.nn.NLLLoss, not <class ...>
# Document only what braindecode-augnet defines: no torch.nn.Module /
# skorch / braindecode members, and no docstring copied from a parent class
# onto an undocumented override (forward, extra_repr, on_epoch_end, ...).
autodoc_inherit_docstrings = False
autodoc_default_options = {
    "members": True,
    "inherited-members": False,
    "show-inheritance": True,
}

def _skip_member(app, what, name, obj, skip, options):
    if what != "class":
        return None
    # Methods that a parent library writes into each subclass, e.g. the
    # ``set_score_request`` that scikit-learn's metadata routing adds to every
    # estimator class (its docstring links to scikit-learn's own glossary).
    module = getattr(obj, "__module__", None)
    if callable(obj) and module and not module.startswith("braindecode_augnet"):
        return True
    return None


# -- numpydoc ----------------------------------------------------------------
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# -- sphinx-gallery ------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    # Only examples named plot_*.py are executed; the others (mass_*.py, which
    # need data that cannot be downloaded) are rendered without being run.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "abort_on_example_error": True,
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("braindecode_augnet",),
    "backreferences_dir": os.path.join("generated", "backreferences"),
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "plot_gallery": "True",
}

# -- HTML ----------------------------------------------------------------------
try:
    import pydata_sphinx_theme  # noqa: F401
except ImportError:  # the 'docs' extra is not installed: plain Sphinx theme
    html_theme = "alabaster"
    html_theme_options = {"description": "Learned EEG augmentation invariances"}
else:
    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navbar_end": ["theme-switcher", "navbar-icon-links"],
        "show_toc_level": 2,
        "secondary_sidebar_items": ["page-toc"],
        "footer_start": ["copyright"],
        "footer_end": ["sphinx-version"],
    }
    html_sidebars = {"index": [], "install": [], "whats_new": [], "method": []}

html_title = f"{project} {release}"
html_show_sourcelink = False


def _public_bases(app, name, obj, options, bases):
    """Show public bases only: ``SensorsXRotation(SensorsRotation)``, not the
    private ``_FixedAxisRotation`` it is built on."""
    public = []
    pending = list(bases)
    while pending:
        base = pending.pop(0)
        if base.__name__.startswith("_") and base is not object:
            pending[:0] = [b for b in base.__bases__ if b not in public]
        elif base not in public:
            public.append(base)
    bases[:] = public


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-bases", _public_bases)
