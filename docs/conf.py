"""Sphinx configuration of the braindecode-augnet documentation.

Build offline, warnings as errors, from the repository root::

    bash docs/build.sh
    # i.e. python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import sys
import warnings
from datetime import date

DOCS = os.path.dirname(os.path.abspath(__file__))
# Import the package from this checkout even without an editable install, and
# the documentation's own helpers (docs/sphinxext).
sys.path.insert(0, os.path.dirname(DOCS))
sys.path.insert(0, os.path.join(DOCS, "sphinxext"))

# The build never downloads anything: the examples read this variable and use
# their synthetic data instead of Sleep-EDF (see examples/GALLERY_HEADER.rst).
os.environ["BRAINDECODE_AUGNET_NO_DOWNLOAD"] = "1"

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
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # docs/sphinxext: fix viewcode's "[docs]" links of objects documented
    # under their module while others of the same file are re-exported
    "viewcode_anchors",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "_intersphinx",
    "sphinxext",
    "Thumbs.db",
    ".DS_Store",
    "**.ipynb_checkpoints",
    "auto_examples/**.ipynb",
    "auto_examples/**.py",
    "auto_examples/**.zip",
    "auto_examples/**.codeobj.json",
    "auto_examples/**.md5",
]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"  # `x` renders as code, never as an unresolvable ref
pygments_style = "sphinx"

nitpicky = False  # references to what no inventory holds render as code

# -- intersphinx -----------------------------------------------------------------
# The build runs without network access, so the inventories of the projects we
# link to are stored in docs/_intersphinx: minimal objects.inv files, written
# by docs/_intersphinx/make_inventories.py from its list of objects and
# addresses (no installed package ships one). Links point to the projects'
# published documentation.


def _load_inventory_table():
    import importlib.util

    path = os.path.join(DOCS, "_intersphinx", "make_inventories.py")
    spec = importlib.util.spec_from_file_location("_make_inventories", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.INVENTORIES


intersphinx_mapping = {
    key: (url, os.path.join("_intersphinx", f"{key}.inv"))
    for key, (_, _, url, _) in _load_inventory_table().items()
}
intersphinx_disabled_reftypes = ["std:doc"]

# -- maths -----------------------------------------------------------------------
# MathJax 3 is served with the pages (docs/_static/mathjax, see its README.txt)
# rather than from a CDN, so that formulas render offline too.
mathjax_path = "mathjax/tex-chtml.js"

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


# -- API pages of classes --------------------------------------------------------
# docs/_templates/autosummary/class.rst lays a class page out as scikit-learn
# and braindecode do: the methods a user calls first (fit, predict,
# predict_proba, score, ... then the class's own), its attributes, and
# apart, folded, the skorch / torch hooks it overrides (check_data,
# train_step, on_batch_end, extra_repr, ...), which skorch and torch
# call and users do not. The groups are computed here, once, for every class
# of the package, and handed to the template as ``member_groups``.

#: Methods of the scikit-learn estimator API, shown first (in this order) on
#: the pages of estimators, defined there or inherited from skorch.
USER_METHODS = ("fit", "predict", "predict_proba", "score")


def _member_groups():
    import importlib
    import inspect
    import pkgutil

    groups = {}
    for info in pkgutil.walk_packages(
        braindecode_augnet.__path__, braindecode_augnet.__name__ + "."
    ):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for cls in vars(module).values():
            if inspect.isclass(cls) and cls.__module__ == info.name:
                groups[f"{info.name}.{cls.__qualname__}"] = _class_groups(cls)
    # the names the API pages use: re-exported ones too
    for name in braindecode_augnet.__all__:
        obj = getattr(braindecode_augnet, name)
        if inspect.isclass(obj):
            groups[f"braindecode_augnet.{name}"] = _class_groups(obj)
    return groups


def _defined_by_library(cls, name):
    """Whether a base class from skorch or torch defines ``name`` (a hook)."""
    return any(
        name in vars(base)
        for base in cls.__mro__[1:]
        if base.__module__.split(".")[0] in ("skorch", "torch")
    )


def _attribute_docs(cls):
    from sphinx.pycode import ModuleAnalyzer

    try:
        return ModuleAnalyzer.for_module(cls.__module__).find_attr_docs()
    except Exception:  # no source: no documented attributes
        return {}


def _class_groups(cls):
    """The members of ``cls`` for its API page, or None for the plain layout
    (classes that override no skorch / torch hook)."""
    import inspect

    from skorch import NeuralNet

    estimator = issubclass(cls, NeuralNet)
    user = [name for name in USER_METHODS if estimator and hasattr(cls, name)]
    methods, properties, attributes, hooks = list(user), [], [], []
    for name in vars(cls):
        if name.startswith("_") or name in user:
            continue
        value = inspect.getattr_static(cls, name)
        function = getattr(value, "__func__", value)
        if not type(value).__module__.startswith(("builtins", "braindecode_augnet")):
            continue  # written into the class by a library (set_score_request)
        if isinstance(value, property):
            properties.append(name)
        elif not callable(function):
            if (cls.__qualname__, name) in _attribute_docs(cls):
                attributes.append(name)  # documented with a "#:" comment
        elif _defined_by_library(cls, name) and name != "forward":
            hooks.append(name)
        else:
            methods.append(name)
    if not hooks and not estimator:
        return None
    return {
        "methods": methods,
        "properties": properties,
        "attributes": attributes,
        "hooks": hooks,
    }


autosummary_context = {"member_groups": _member_groups()}
# "On this page" lists ``fit()``, not ``AugNetClassifier.fit()``: short
# entries that fit the secondary sidebar.
toc_object_entries_show_parents = "hide"

# -- numpydoc ----------------------------------------------------------------
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Link the types of the Parameters / Returns sections (through intersphinx
# for other projects); words that are not types stay plain.
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    # this package
    "AugNet": "braindecode_augnet.AugNet",
    "AugNetClassifier": "braindecode_augnet.AugNetClassifier",
    "AugmentationLayer": "braindecode_augnet.AugmentationLayer",
    "AugmentationModule": "braindecode_augnet.AugmentationModule",
    "DifferentiableTransform": "braindecode_augnet.DifferentiableTransform",
    "Involution": "braindecode_augnet.Involution",
    "RandomPolicy": "braindecode_augnet.RandomPolicy",
    # other projects
    "array-like": ":term:`array-like <numpy:array_like>`",
    "array_like": ":term:`numpy:array_like`",
    "BaseConcatDataset": "braindecode.datasets.BaseConcatDataset",
    "DataFrame": "pandas.DataFrame",
    "EEGClassifier": "braindecode.classifier.EEGClassifier",
    "Generator": "torch.Generator",
    "Tensor": "torch.Tensor",
    "ndarray": "numpy.ndarray",
}
numpydoc_xref_ignore = {
    "type",
    "optional",
    "default",
    "of",
    "or",
    "shape",
    "same",
    "as",
    "with",
    "each",
    "in",
    "one",
    "the",
    "instance",
    "class",
}
numpydoc_validation_checks = set()

# -- sphinx-gallery ------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    # One section per sub-folder of examples/ (with its GALLERY_HEADER.rst), in
    # the order users need them; docs/sphinxext/gallery_order.py orders the
    # examples within a section.
    "subsection_order": [
        "../examples/sleep_staging",
        "../examples/learned_policies",
        "../examples/motor_imagery",
        "../examples/toy_problems",
    ],
    "within_subsection_order": "gallery_order.ExampleOrder",
    # Only examples named plot_*.py are executed; the others (MASS, MOABB: data
    # the build cannot download) are rendered without being run, with the
    # thumbnail their sphinx_gallery_thumbnail_path comment names
    # (docs/_static/thumbnails, drawn by make_thumbnails.py there).
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "abort_on_example_error": True,
    "doc_module": ("braindecode_augnet",),
    "backreferences_dir": os.path.join("generated", "backreferences"),
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "plot_gallery": "True",
    # Figures at twice the resolution too, for high-density screens.
    "image_srcset": ["2x"],
    # Show what the examples print, not the repr of their last expression
    # (the HTML repr of a fitted estimator, <matplotlib.legend.Legend ...>).
    "capture_repr": (),
    # No sg_execution_times pages: they time the build machine, and load
    # their table scripts from CDNs.
    "write_computation_times": False,
}

# -- Where the project lives -------------------------------------------------------
# The repository and issue-tracker links come from the package's metadata
# (``project_urls`` / ``url`` of setup.py, one home for them), never from a
# guess: the navbar and the install page show those that the metadata names.


def _project_urls():
    from importlib import metadata

    try:
        meta = metadata.metadata("braindecode-augnet")
    except metadata.PackageNotFoundError:  # docs built from an uninstalled tree
        return {}
    urls = {}
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        urls[label.strip().lower()] = url.strip()
    if meta.get("Home-page"):
        urls.setdefault("homepage", meta["Home-page"])
    return urls


PROJECT_URLS = _project_urls()
REPOSITORY_URL = next(
    (
        PROJECT_URLS[k]
        for k in ("source", "repository", "homepage")
        if k in PROJECT_URLS
    ),
    None,
)
ISSUES_URL = next(
    (
        PROJECT_URLS[k]
        for k in ("issues", "bug tracker", "tracker")
        if k in PROJECT_URLS
    ),
    None,
)
_NO_URL = (
    "not published: the package's metadata (``setup.py``) names no ``project_urls``"
)


def _link(url):
    return f"`{url} <{url}>`__" if url else _NO_URL


rst_prolog = f"""
.. |repository| replace:: {_link(REPOSITORY_URL)}
.. |issue_tracker| replace:: {_link(ISSUES_URL)}
"""

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
        "icon_links": [
            {"name": name, "url": url, "icon": icon, "type": "fontawesome"}
            for name, url, icon in (
                ("Repository", REPOSITORY_URL, "fa-brands fa-git-alt"),
                ("Issue tracker", ISSUES_URL, "fa-solid fa-bug"),
            )
            if url
        ],
    }
    html_sidebars = {"index": [], "install": [], "whats_new": [], "method": []}

html_title = f"{project} {release}"
html_show_sourcelink = False
html_static_path = ["_static"]
# Wide code and output blocks scroll instead of being cut (docs/_static).
html_css_files = ["custom.css"]


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
