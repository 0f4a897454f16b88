"""Write the intersphinx inventories stored next to this script.

The documentation is built without network access (CI, the developers'
machines), so :mod:`sphinx.ext.intersphinx` cannot download the
``objects.inv`` files of the projects it links to, and none of the installed
packages ships one. This script writes, for each project, a minimal inventory
in Sphinx's own format (version 2: a four-line header, then zlib-compressed
lines ``name domain:role priority uri display-name``) holding only the
objects the documentation and the gallery examples refer to, with the
addresses of their pages in the project's published documentation. Sphinx
reads them through ``intersphinx_mapping`` in ``docs/conf.py``, and
sphinx-gallery uses them to link the names in the examples' code.

The addresses follow each project's own documentation sources (its
``docs/api.rst`` or equivalent and its autosummary templates; the rule of
each project is written above its entries and checked by
``tests/test_docs.py``). To link a new object, add it to :data:`INVENTORIES`
following that rule and run, from the root of the repository::

    python docs/_intersphinx/make_inventories.py

``tests/test_docs.py`` checks that the committed files are up to date.
"""

import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: ``key: (project, version, base URL, [(name, role, page#anchor), ...])``;
#: links show as "(in <project> <version>)", hence "stable" for the projects
#: whose stable documentation they point to.
#: Every ``$`` in an address stands for the object's name, e.g.
#: ``generated/$.html#$`` for ``torch.Generator`` is
#: ``generated/torch.Generator.html#torch.Generator``.
INVENTORIES = {
    "python": (
        "Python",
        "3",
        "https://docs.python.org/3/",
        [
            ("bool", "py:class", "library/functions.html#$"),
            ("callable", "py:function", "library/functions.html#$"),
            ("dict", "py:class", "library/stdtypes.html#$"),
            ("float", "py:class", "library/functions.html#$"),
            ("int", "py:class", "library/functions.html#$"),
            ("list", "py:class", "library/stdtypes.html#$"),
            ("object", "py:class", "library/functions.html#$"),
            ("str", "py:class", "library/stdtypes.html#$"),
            ("tuple", "py:class", "library/stdtypes.html#$"),
            ("None", "py:data", "library/constants.html#$"),
            ("ConnectionError", "py:exception", "library/exceptions.html#$"),
            ("OSError", "py:exception", "library/exceptions.html#$"),
            ("RuntimeError", "py:exception", "library/exceptions.html#$"),
            ("TypeError", "py:exception", "library/exceptions.html#$"),
            ("ValueError", "py:exception", "library/exceptions.html#$"),
            ("pathlib.Path", "py:class", "library/pathlib.html#$"),
            ("True", "py:data", "library/constants.html#$"),
            ("False", "py:data", "library/constants.html#$"),
            # targets of numpydoc's default type links (bool, sequence, ...)
            (
                "bltin-boolean-values",
                "std:label",
                "library/stdtypes.html#boolean-type-bool",
            ),
            ("generator", "std:term", "glossary.html#term-generator"),
            ("iterable", "std:term", "glossary.html#term-iterable"),
            ("sequence", "std:term", "glossary.html#term-sequence"),
        ],
    ),
    "numpy": (
        "NumPy",
        "stable",
        "https://numpy.org/doc/stable/",
        [
            ("numpy.ndarray", "py:class", "reference/generated/$.html#$"),
            ("numpy.random.Generator", "py:class", "reference/random/generator.html#$"),
            ("numpy.random.RandomState", "py:class", "reference/random/legacy.html#$"),
            (
                "numpy.random.SeedSequence",
                "py:class",
                "reference/random/bit_generators/generated/$.html#$",
            ),
            (
                "numpy.random.default_rng",
                "py:function",
                "reference/random/generator.html#$",
            ),
            *[
                (f"numpy.{name}", "py:function", "reference/generated/$.html#$")
                for name in (
                    "arange",
                    "array",
                    "asarray",
                    "atleast_1d",
                    "bincount",
                    "concatenate",
                    "empty",
                    "linspace",
                    "median",
                    "ones",
                    "unique",
                    "where",
                    "zeros",
                )
            ],
            ("array_like", "std:term", "glossary.html#term-array_like"),
            # targets of numpydoc's default type links (scalar, np.inf, ...)
            ("numpy", "py:module", "reference/index.html"),
            ("numpy.inf", "py:data", "reference/constants.html#$"),
            ("numpy.nan", "py:data", "reference/constants.html#$"),
            ("arrays.scalars", "std:label", "reference/arrays.scalars.html"),
        ],
    ),
    "pandas": (
        "pandas",
        "stable",
        "https://pandas.pydata.org/docs/",
        [
            ("pandas.DataFrame", "py:class", "reference/api/$.html#$"),
            ("pandas.Index", "py:class", "reference/api/$.html#$"),
            ("pandas.Series", "py:class", "reference/api/$.html#$"),
            ("pandas.concat", "py:function", "reference/api/$.html#$"),
            ("pandas.DataFrame.round", "py:method", "reference/api/$.html#$"),
            ("pandas.DataFrame.to_string", "py:method", "reference/api/$.html#$"),
        ],
    ),
    "matplotlib": (
        "Matplotlib",
        "stable",
        "https://matplotlib.org/stable/",
        [
            ("matplotlib.axes.Axes", "py:class", "api/_as_gen/$.html#$"),
            ("matplotlib.figure.Figure", "py:class", "api/_as_gen/$.html#$"),
            ("matplotlib.pyplot.show", "py:function", "api/_as_gen/$.html#$"),
            ("matplotlib.pyplot.subplots", "py:function", "api/_as_gen/$.html#$"),
            *[
                (f"matplotlib.axes.Axes.{name}", "py:method", "api/_as_gen/$.html#$")
                for name in (
                    "axvline",
                    "bar",
                    "legend",
                    "plot",
                    "set_title",
                    "set_xlabel",
                    "set_xticks",
                    "set_ylabel",
                    "set_ylim",
                    "set_yticks",
                    "step",
                )
            ],
        ],
    ),
    "torch": (
        "PyTorch",
        "stable",
        "https://docs.pytorch.org/docs/stable/",
        [
            ("torch.Tensor", "py:class", "tensors.html#$"),
            ("torch.Tensor.backward", "py:method", "generated/$.html#$"),
            (
                "torch.nn.Module.apply",
                "py:method",
                "generated/torch.nn.Module.html#$",
            ),
            ("torch.Generator", "py:class", "generated/$.html#$"),
            ("torch.compile", "py:function", "generated/$.html#$"),
            ("torch.func.functional_call", "py:function", "generated/$.html#$"),
            ("torch.device", "py:class", "tensor_attributes.html#$"),
            ("torch.dtype", "py:class", "tensor_attributes.html#$"),
            ("torch.no_grad", "py:class", "generated/$.html#$"),
            *[
                (f"torch.{name}", "py:function", "generated/$.html#$")
                for name in (
                    "as_tensor",
                    "equal",
                    "manual_seed",
                    "randn",
                    "set_num_threads",
                )
            ],
            ("torch.cuda.is_available", "py:function", "generated/$.html#$"),
            *[
                (f"torch.nn.{name}", "py:class", "generated/$.html#$")
                for name in (
                    "CrossEntropyLoss",
                    "Flatten",
                    "Linear",
                    "Module",
                    "ModuleList",
                    "NLLLoss",
                    "ReLU",
                    "Sequential",
                )
            ],
            # where the class is defined, as autodoc names it in "Bases:"
            (
                "torch.nn.modules.module.Module",
                "py:class",
                "generated/torch.nn.Module.html#torch.nn.Module",
            ),
            (
                "torch.nn.Parameter",
                "py:class",
                "generated/torch.nn.parameter.Parameter.html"
                "#torch.nn.parameter.Parameter",
            ),
            *[
                (f"torch.optim.{name}", "py:class", "generated/$.html#$")
                for name in ("Adam", "AdamW", "SGD")
            ],
            *[
                (f"torch.utils.data.{name}", "py:class", "data.html#$")
                for name in ("DataLoader", "Dataset", "TensorDataset")
            ],
        ],
    ),
    "braindecode": (
        "Braindecode",
        "stable",
        "https://braindecode.org/stable/",
        # braindecode's docs/api.rst documents each object under the module
        # named by its ``currentmodule`` (braindecode.classifier, .models,
        # .datasets, ...) with an autosummary ``:toctree: generated/`` (the
        # layers of braindecode.modules: ``generated/layers/``), and its
        # autosummary class template writes the page
        # ``generated/<currentmodule>.<name>.html`` with the anchor
        # ``#<currentmodule>.<name>``. Names importable elsewhere (the
        # package's top level, the module defining a base class) point to
        # that page. tests/test_docs.py checks every entry against this rule.
        [
            ("braindecode.augmentation", "py:module", "api.html#augmentation-api"),
            ("braindecode.classifier.EEGClassifier", "py:class", "generated/$.html#$"),
            (
                "braindecode.EEGClassifier",
                "py:class",
                "generated/braindecode.classifier.EEGClassifier.html"
                "#braindecode.classifier.EEGClassifier",
            ),
            *[
                (f"braindecode.augmentation.{name}", "py:class", "generated/$.html#$")
                for name in ("AugmentedDataLoader", "Transform")
            ],
            (
                "braindecode.augmentation.base.Transform",
                "py:class",
                "generated/braindecode.augmentation.Transform.html"
                "#braindecode.augmentation.Transform",
            ),
            *[
                (f"braindecode.datasets.{name}", "py:class", "generated/$.html#$")
                for name in ("BaseConcatDataset", "MOABBDataset", "SleepPhysionet")
            ],
            *[
                (f"braindecode.models.{name}", "py:class", "generated/$.html#$")
                for name in ("ShallowFBCSPNet", "SleepStagerChambon2018", "USleep")
            ],
            (
                "braindecode.modules.TimeDistributed",
                "py:class",
                "generated/layers/$.html#$",
            ),
            ("braindecode.samplers.SequenceSampler", "py:class", "generated/$.html#$"),
            (
                "braindecode.preprocessing.Preprocessor",
                "py:class",
                "generated/$.html#$",
            ),
            *[
                (
                    f"braindecode.preprocessing.{name}",
                    "py:function",
                    "generated/$.html#$",
                )
                for name in (
                    "create_windows_from_events",
                    "exponential_moving_standardize",
                    "preprocess",
                )
            ],
        ],
    ),
    "sklearn": (
        "scikit-learn",
        "stable",
        "https://scikit-learn.org/stable/",
        [
            ("sklearn.base.clone", "py:function", "modules/generated/$.html#$"),
            (
                "sklearn.model_selection.GridSearchCV",
                "py:class",
                "modules/generated/$.html#$",
            ),
            (
                "sklearn.metrics.ConfusionMatrixDisplay",
                "py:class",
                "modules/generated/$.html#$",
            ),
            (
                "sklearn.metrics.ConfusionMatrixDisplay.from_predictions",
                "py:method",
                "modules/generated/sklearn.metrics.ConfusionMatrixDisplay.html#$",
            ),
            *[
                (f"sklearn.metrics.{name}", "py:function", "modules/generated/$.html#$")
                for name in (
                    "accuracy_score",
                    "balanced_accuracy_score",
                    "cohen_kappa_score",
                    "f1_score",
                )
            ],
            # label of the user guide, cited by ClassifierMixin.score's
            # docstring (shown on the estimators' pages)
            (
                "accuracy_score",
                "std:label",
                "modules/model_evaluation.html#accuracy-score",
            ),
            (
                "sklearn.utils.class_weight.compute_class_weight",
                "py:function",
                "modules/generated/$.html#$",
            ),
        ],
    ),
    "mne": (
        "MNE",
        "stable",
        "https://mne.tools/stable/",
        [
            ("mne.Epochs", "py:class", "generated/$.html#$"),
            ("mne.Info", "py:class", "generated/$.html#$"),
            ("mne.io.Raw", "py:class", "generated/$.html#$"),
            ("mne.io.Raw.pick", "py:method", "generated/mne.io.Raw.html#$"),
            ("mne.io.RawArray", "py:class", "generated/$.html#$"),
            (
                "mne.channels.make_standard_montage",
                "py:function",
                "generated/$.html#$",
            ),
            (
                "mne.datasets.sleep_physionet.age.fetch_data",
                "py:function",
                "generated/$.html#$",
            ),
        ],
    ),
    "skorch": (
        "skorch",
        "stable",
        "https://skorch.readthedocs.io/en/stable/",
        # skorch's docs have one page per module, ``<module>.rst`` holding
        # ``.. automodule:: skorch.<module>`` with ``:members:``: the page
        # ``<module>.html``, the anchor ``#skorch.<module>.<name>`` (the
        # callbacks are documented as skorch.callbacks.<name>, from the
        # package's __all__). Names importable elsewhere point there.
        [
            ("skorch.NeuralNet", "py:class", "net.html#skorch.net.NeuralNet"),
            ("skorch.net.NeuralNet", "py:class", "net.html#$"),
            (
                "skorch.NeuralNetClassifier",
                "py:class",
                "classifier.html#skorch.classifier.NeuralNetClassifier",
            ),
            ("skorch.classifier.NeuralNetClassifier", "py:class", "classifier.html#$"),
            ("skorch.History", "py:class", "history.html#skorch.history.History"),
            ("skorch.history.History", "py:class", "history.html#$"),
            *[
                (f"skorch.callbacks.{name}", "py:class", "callbacks.html#$")
                for name in (
                    "Callback",
                    "Checkpoint",
                    "EarlyStopping",
                    "EpochScoring",
                    "LRScheduler",
                    "PrintLog",
                )
            ],
            (
                "skorch.callbacks.base.Callback",
                "py:class",
                "callbacks.html#skorch.callbacks.Callback",
            ),
            ("skorch.dataset.ValidSplit", "py:class", "dataset.html#$"),
            ("skorch.helper.predefined_split", "py:function", "helper.html#$"),
            ("skorch.hf.AccelerateMixin", "py:class", "hf.html#$"),
        ],
    ),
}


def inventory_bytes(project, version, entries):
    """An ``objects.inv`` file (Sphinx inventory version 2) as bytes."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = [
        f"{name} {role} 1 {uri.replace('$', name)} -\n"
        for name, role, uri in sorted(entries, key=lambda entry: entry[:2])
    ]
    return header.encode() + zlib.compress("".join(lines).encode(), 9)


def main():
    for key, (project, version, _, entries) in INVENTORIES.items():
        path = HERE / f"{key}.inv"
        path.write_bytes(inventory_bytes(project, version, entries))
        print(f"wrote {path.name}: {len(entries)} objects")


if __name__ == "__main__":
    main()
