"""Tests of the documentation: README, landing page, docstring examples,
intersphinx inventories and gallery layout (the Sphinx build itself is
``bash docs/build.sh``)."""

import doctest
import importlib
import importlib.util
import io
import re
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"

#: Modules whose docstring examples are run here.
DOCTEST_MODULES = [
    "braindecode_augnet.methods.bilevel",
    "braindecode_augnet.base",
    "braindecode_augnet.channels",
    "braindecode_augnet.functional._tensor",
    "braindecode_augnet.functional.gates",
    "braindecode_augnet.functional.layer_ops",
    "braindecode_augnet.functional.spatial",
    "braindecode_augnet.functional.spectral",
    "braindecode_augnet.functional.temporal",
    "braindecode_augnet.analysis.invariance",
    "braindecode_augnet.analysis.plotting",
    "braindecode_augnet.analysis.policy",
    "braindecode_augnet.layers",
    "braindecode_augnet.regularization",
    "braindecode_augnet.study.toy_models",
    "braindecode_augnet.sequences",
    "braindecode_augnet.study.stager",
    "braindecode_augnet.transforms.spatial",
    "braindecode_augnet.transforms.spectral",
    "braindecode_augnet.transforms.temporal",
]


def python_blocks(path):
    """The ``.. code-block:: python`` blocks of an rst file, dedented."""
    text = path.read_text()
    blocks = re.findall(
        r"^\.\. code-block:: python\n\n((?:(?: {4}.*)?\n)+)", text, re.M
    )
    return ["\n".join(line[4:] for line in block.splitlines()) for block in blocks]


@pytest.fixture
def one_thread():
    """Run with one torch thread (several fight for the cores of small CI
    machines), restoring the setting afterwards."""
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


def run_blocks(path, shared):
    """Execute the python blocks of ``path``, in one namespace if ``shared``
    (later blocks use what earlier ones define) else each in its own; return
    the namespace after each block. No warning about dropped training batches
    may be raised."""
    namespaces, namespace = [], {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for block in python_blocks(path):
            if not shared:
                namespace = {}
            namespace.setdefault("__name__", "__docs__")
            exec(compile(block, str(path), "exec"), namespace)
            namespaces.append(dict(namespace))
    dropped = [
        str(w.message) for w in caught if "batches are dropped" in str(w.message)
    ]
    assert not dropped, dropped
    return namespaces


# ---------------------------------------------------------------- README
def test_readme_renders_without_warnings():
    docutils_core = pytest.importorskip("docutils.core")
    stream = io.StringIO()
    docutils_core.publish_doctree(
        (ROOT / "README.rst").read_text(),
        source_path="README.rst",
        settings_overrides={
            "warning_stream": stream,
            "report_level": 2,  # warnings and errors
            "halt_level": 5,  # report them all instead of stopping at the first
        },
    )
    assert stream.getvalue() == ""


def _check_fitted(namespace):
    clf, X = namespace["clf"], namespace["X"]
    # the training batches were not all dropped: every epoch trained
    assert all(len(epoch["batches"]) > 0 for epoch in clf.history)
    assert all(np.isfinite(clf.history[:, "train_loss"]))
    # the example's data are standardised, as the text asks
    np.testing.assert_allclose(X.std(axis=(0, 2)), 1.0, rtol=1e-4)
    np.testing.assert_allclose(X.mean(axis=(0, 2)), 0.0, atol=1e-4)
    proba = namespace["proba"]
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    expected = {"layer", "transform", "weight", "magnitude", "probability"}
    assert expected <= set(clf.policy_.columns)


def test_readme_quick_start_runs_as_written(one_thread):
    namespace, *_ = run_blocks(ROOT / "README.rst", shared=False)
    _check_fitted(namespace)
    # the quick start learns its stand-in task
    clf = namespace["clf"]
    assert (clf.predict(namespace["X"]) == namespace["y"]).mean() > 0.8


def test_landing_page_snippets_run_as_written(one_thread):
    quick_start, by_hand, _ = run_blocks(DOCS / "index.rst", shared=True)
    _check_fitted(quick_start)
    assert len(by_hand["clf"].augmentation) == 2  # layers chosen by hand


# --------------------------------------------------------- docstrings
@pytest.mark.parametrize("name", DOCTEST_MODULES)
def test_docstring_examples(name):
    import matplotlib

    matplotlib.use("Agg")
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. MNE's montage deprecations
        result = doctest.testmod(
            module,
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
            report=True,
        )
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0


# ------------------------------------------------- intersphinx inventories
def _inventory_module():
    path = DOCS / "_intersphinx" / "make_inventories.py"
    spec = importlib.util.spec_from_file_location("_make_inventories", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _body(data):
    header_end = 0
    for _ in range(4):
        header_end = data.index(b"\n", header_end) + 1
    return data[:header_end], zlib.decompress(data[header_end:])


def test_intersphinx_inventories_are_up_to_date():
    module = _inventory_module()
    stored = sorted(p.stem for p in (DOCS / "_intersphinx").glob("*.inv"))
    assert stored == sorted(module.INVENTORIES)
    for key, (project, version, url, entries) in module.INVENTORIES.items():
        assert url.startswith("https://") and url.endswith("/")
        expected = module.inventory_bytes(project, version, entries)
        actual = (DOCS / "_intersphinx" / f"{key}.inv").read_bytes()
        assert _body(actual) == _body(expected), (
            f"docs/_intersphinx/{key}.inv is out of date: run "
            "python docs/_intersphinx/make_inventories.py"
        )


def test_intersphinx_inventories_load_in_sphinx():
    inventory = pytest.importorskip("sphinx.util.inventory")
    module = _inventory_module()
    for key, (_, _, url, entries) in module.INVENTORIES.items():
        data = (DOCS / "_intersphinx" / f"{key}.inv").read_bytes()
        loaded = inventory.InventoryFile.loads(data, uri=url)
        loaded = getattr(loaded, "data", loaded)
        names = {name for items in loaded.values() for name in items}
        assert names == {name for name, _, _ in entries}
        for items in loaded.values():
            for name, item in items.items():
                uri = getattr(item, "uri", None) or item[2]
                assert uri.startswith(url) and "$" not in uri, (name, uri)


# ------------------------------------------------------- static files
def test_mathjax_is_served_locally():
    conf = (DOCS / "conf.py").read_text()
    path = re.search(r'^mathjax_path = "([^"]+)"', conf, re.M).group(1)
    assert (DOCS / "_static" / path).is_file()
    assert list((DOCS / "_static" / "mathjax" / "output").rglob("*.woff"))


# --------------------------------------------------------------- gallery
def _sections():
    return sorted(p for p in EXAMPLES.iterdir() if p.is_dir())


def test_gallery_sections_and_order_cover_every_example():
    conf = (DOCS / "conf.py").read_text()
    listed = re.findall(r'"\.\./examples/(\w+)"', conf)
    assert sorted(listed) == [p.name for p in _sections()]
    assert (EXAMPLES / "GALLERY_HEADER.rst").is_file()
    spec = importlib.util.spec_from_file_location(
        "gallery_order", DOCS / "sphinxext" / "gallery_order.py"
    )
    order = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(order)
    examples = sorted(p.name for p in EXAMPLES.rglob("*.py"))
    assert sorted(order.EXAMPLE_ORDER) == examples
    for section in _sections():
        assert (section / "GALLERY_HEADER.rst").is_file()
    # sleep staging comes first
    assert listed[0] == "sleep_staging"
    assert order.EXAMPLE_ORDER[0] == "plot_sleep_staging.py"


def test_examples_not_run_by_the_build_have_a_thumbnail():
    for path in EXAMPLES.rglob("*.py"):
        text = path.read_text()
        if path.name.startswith("plot_"):
            continue
        match = re.search(r"^# sphinx_gallery_thumbnail_path = \"(.+)\"", text, re.M)
        assert match, f"{path.name} has no thumbnail"
        assert (DOCS / match.group(1)).is_file()
        assert "not run here" in text.splitlines()[1]  # an honest title


def test_gallery_cross_references_point_to_examples():
    labels = {
        "sphx_glr_auto_examples_" + f"{p.parent.name}_{p.name}"
        for p in EXAMPLES.rglob("*.py")
    }
    sources = [*EXAMPLES.rglob("*.py"), *DOCS.glob("*.rst"), ROOT / "README.rst"]
    for path in sources:
        for ref in re.findall(r"sphx_glr_auto_examples_[\w.]+\.py", path.read_text()):
            assert ref in labels, f"{path.name}: unknown example {ref}"


def test_docs_build_never_downloads():
    conf = (DOCS / "conf.py").read_text()
    assert 'os.environ["BRAINDECODE_AUGNET_NO_DOWNLOAD"] = "1"' in conf
    sleep = (EXAMPLES / "sleep_staging" / "plot_sleep_staging.py").read_text()
    assert "BRAINDECODE_AUGNET_NO_DOWNLOAD" in sleep


# ------------------------------------------------------------ API reference
def _api_entries():
    """``(module, name)`` of every autosummary entry of docs/api.rst."""
    module, entries, in_autosummary = "braindecode_augnet", [], False
    for line in (DOCS / "api.rst").read_text().splitlines():
        match = re.match(r"\.\. (?:current)?module:: (\S+)", line)
        if match:
            module = match.group(1)
        if line.startswith(".. autosummary::"):
            in_autosummary = True
        elif in_autosummary and line.strip() and not line.startswith("   "):
            in_autosummary = False
        elif in_autosummary and re.match(r"   [~\w]", line):
            entries.append((module, line.strip().lstrip("~")))
    return entries


def test_api_reference_lists_importable_objects_under_their_module():
    entries = _api_entries()
    assert len(entries) > 50
    for module_name, name in entries:
        module = importlib.import_module(module_name)
        obj = getattr(module, name)  # AttributeError: api.rst is out of date
        defined_in = getattr(obj, "__module__", module_name)
        # documented under the module that defines it, or re-exported from
        # the package's top level (viewcode links back to the documented name)
        assert module_name in (defined_in, "braindecode_augnet") or (
            defined_in.startswith(module_name + ".")
        ), f"{module_name}.{name} is defined in {defined_in}"


#: The page and anchor of an object in each project's documentation, as its
#: own sources lay them out (checked against them, not from memory):
#:
#: - braindecode: docs/api.rst documents each object under its
#:   ``currentmodule`` (braindecode.classifier, .models, .datasets, ...) in an
#:   autosummary with ``:toctree: generated/`` (``generated/layers/`` for
#:   braindecode.modules' layers); the class template writes
#:   ``generated/<module>.<name>.html#<module>.<name>``;
#: - skorch: one page per module, ``<module>.rst`` = ``automodule::
#:   skorch.<module>`` with ``:members:``: ``<module>.html#skorch.<module>.<name>``;
#: - torch, scikit-learn, MNE, pandas, matplotlib: autosummary pages named by
#:   the documented object (``generated/``, ``modules/generated/``,
#:   ``generated/``, ``reference/api/``, ``api/_as_gen/``); methods on their
#:   class's page, except where the project lists each method in an
#:   autosummary of its own (torch's tensors.rst ``Tensor.<method>``,
#:   matplotlib's axes_api.rst ``Axes.<method>``, pandas' ``DataFrame.<method>``).
BRAINDECODE_DOCUMENTED_MODULES = {
    "braindecode.classifier": "generated/",
    "braindecode.models": "generated/",
    "braindecode.datasets": "generated/",
    "braindecode.preprocessing": "generated/",
    "braindecode.samplers": "generated/",
    "braindecode.augmentation": "generated/",
    "braindecode.modules": "generated/layers/",
}
AUTOSUMMARY_PAGES = {
    "sklearn": "modules/generated/",
    "mne": "generated/",
    "pandas": "reference/api/",
    "matplotlib": "api/_as_gen/",
}
#: Classes whose methods each have their own autosummary page.
METHODS_WITH_OWN_PAGE = ("torch.Tensor", "matplotlib.axes.Axes", "pandas.DataFrame")
#: torch objects documented with ``autoclass`` on a topic page instead.
TORCH_TOPIC_PAGES = {
    "torch.Tensor": "tensors.html",
    "torch.device": "tensor_attributes.html",
    "torch.dtype": "tensor_attributes.html",
    "torch.utils.data.DataLoader": "data.html",
    "torch.utils.data.Dataset": "data.html",
    "torch.utils.data.TensorDataset": "data.html",
}


def _documented_page(key, role, anchor):
    """The page that upstream's naming rule gives the object ``anchor``."""
    if key == "braindecode":
        module, _, name = anchor.rpartition(".")
        assert module in BRAINDECODE_DOCUMENTED_MODULES, (
            f"{anchor}: braindecode documents no object under {module}"
        )
        return f"{BRAINDECODE_DOCUMENTED_MODULES[module]}{anchor}.html"
    if key == "skorch":
        parts = anchor.split(".")
        assert len(parts) == 3 and parts[0] == "skorch", anchor
        return f"{parts[1]}.html"
    owner = anchor
    if role == "py:method" and anchor.rsplit(".", 1)[0] not in METHODS_WITH_OWN_PAGE:
        owner = anchor.rsplit(".", 1)[0]
    if key == "torch":
        return TORCH_TOPIC_PAGES.get(anchor, f"generated/{owner}.html")
    if key in AUTOSUMMARY_PAGES:
        return f"{AUTOSUMMARY_PAGES[key]}{owner}.html"
    return None  # python, numpy: pages by topic, not by object


@pytest.mark.parametrize(
    "key", ["braindecode", "skorch", "torch", "sklearn", "mne", "pandas", "matplotlib"]
)
def test_intersphinx_entries_follow_upstream_page_names(key):
    _, _, _, entries = _inventory_module().INVENTORIES[key]
    for name, role, uri in entries:
        if not role.startswith("py:") or role == "py:module":
            continue
        uri = uri.replace("$", name)
        page, _, anchor = uri.partition("#")
        assert anchor, f"{name}: no anchor in {uri}"
        # an alias (braindecode.EEGClassifier, the base class path autodoc
        # shows) points to the documented object of the same name
        assert anchor.rsplit(".", 1)[-1] == name.rsplit(".", 1)[-1], (name, uri)
        if key == "torch" and name == "torch.nn.Parameter":
            # documented as torch.nn.parameter.Parameter (nn.rst's autosummary)
            assert anchor == "torch.nn.parameter.Parameter"
        assert page == _documented_page(key, role, anchor), (name, uri)


def test_braindecode_inventory_points_to_its_documented_pages():
    """The regressions this rule caught: EEGClassifier is documented as
    braindecode.classifier.EEGClassifier (no braindecode.EEGClassifier page),
    and the names the API pages and examples use are linked."""
    _, _, _, entries = _inventory_module().INVENTORIES["braindecode"]
    uris = {name: uri.replace("$", name) for name, _, uri in entries}
    expected = "generated/braindecode.classifier.EEGClassifier.html"
    assert uris["braindecode.EEGClassifier"].startswith(expected)
    assert uris["braindecode.classifier.EEGClassifier"].startswith(expected)
    for name in (
        "braindecode.models.USleep",
        "braindecode.samplers.SequenceSampler",
        "braindecode.modules.TimeDistributed",
        "braindecode.augmentation.base.Transform",  # "Bases:" of transforms
    ):
        assert name in uris
    others = {
        name
        for key in ("torch", "skorch")
        for name, _, _ in _inventory_module().INVENTORIES[key][3]
    }
    for name in (
        "torch.compile",
        "torch.func.functional_call",
        "torch.nn.modules.module.Module",  # "Bases:" of the modules
        "skorch.hf.AccelerateMixin",
        "skorch.callbacks.base.Callback",  # "Bases:" of PolicyLogger
    ):
        assert name in others


# ------------------------------------------------------ class pages, links
@pytest.fixture(scope="module")
def conf():
    """docs/conf.py as a module (it sets an environment variable: restored)."""
    import os
    import runpy

    saved = dict(os.environ)
    try:
        yield runpy.run_path(str(DOCS / "conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_estimator_page_shows_user_methods_first_and_hooks_apart(conf):
    groups = conf["autosummary_context"]["member_groups"]
    page = groups["braindecode_augnet.AugNetClassifier"]
    # the scikit-learn API first, inherited ones (predict_proba, score) too
    assert page["methods"][:4] == ["fit", "predict", "predict_proba", "score"]
    assert "policy_" in page["properties"]
    # skorch's hooks apart, never among the user-facing methods
    for hook in ("check_data", "train_step", "on_batch_end", "forward_iter"):
        assert hook in page["hooks"] and hook not in page["methods"]
    assert not set(page["hooks"]) & set(conf["USER_METHODS"])
    # methods a library writes into the class are left out
    assert "set_score_request" not in str(page)
    # classes that override no hook keep autodoc's plain layout
    assert groups["braindecode_augnet.transforms.temporal.SignFlip"] is None
    template = (DOCS / "_templates" / "autosummary" / "class.rst").read_text()
    assert "member_groups.get(fullname)" in template and "<details" in template


def test_repository_links_come_from_the_package_metadata(conf):
    """No address is guessed: the links are the metadata's project URLs, and
    the install page says so when there are none."""
    urls = conf["PROJECT_URLS"]
    icon_links = conf["html_theme_options"].get("icon_links", [])
    links = [link["url"] for link in icon_links]
    assert set(links) <= set(urls.values())
    install = (DOCS / "install.rst").read_text()
    assert "|repository|" in install and "|issue_tracker|" in install
    if conf["REPOSITORY_URL"] is None:
        assert "names no" in conf["rst_prolog"]


def test_whats_new_is_headed_with_the_package_version():
    from braindecode_augnet import __version__

    text = (DOCS / "whats_new.rst").read_text()
    first = re.search(r"^(\S.*)\n=+\n", text.split("currentmodule")[1], re.M)
    assert first.group(1).startswith(__version__ + " ")
