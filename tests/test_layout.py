"""The package's layout: old import paths still work, the library never
imports the study."""

import ast
import importlib
import pathlib
import pickle

import pytest

import braindecode_augnet

PACKAGE = pathlib.Path(braindecode_augnet.__file__).parent

#: Old module paths and where their code lives now.
MOVED = {
    "braindecode_augnet.pipeline": "braindecode_augnet.study.pipeline",
    "braindecode_augnet.report": "braindecode_augnet.study.report",
    "braindecode_augnet.cli": "braindecode_augnet.study.cli",
    "braindecode_augnet.sleep_plots": "braindecode_augnet.study.plots",
    "braindecode_augnet.toy_models": "braindecode_augnet.study.toy_models",
    "braindecode_augnet.policy": "braindecode_augnet.analysis.policy",
    "braindecode_augnet.invariance": "braindecode_augnet.analysis.invariance",
    "braindecode_augnet.plotting": "braindecode_augnet.analysis.plotting",
}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_paths_are_the_moved_modules(old):
    assert importlib.import_module(old) is importlib.import_module(MOVED[old])


def test_moved_sequence_names_stay_importable_and_picklable():
    from braindecode_augnet.sequences import TimeDistributedSleepStager, predict_windows
    from braindecode_augnet.study import stager

    assert TimeDistributedSleepStager is stager.TimeDistributedSleepStager
    assert predict_windows is stager.predict_windows
    # a pickle naming the old module path loads the moved class
    old = pickle.dumps(stager.sequence_index, protocol=0).replace(
        b"braindecode_augnet.study.stager", b"braindecode_augnet.sequences"
    )
    assert pickle.loads(old) is stager.sequence_index


def _imported_modules(path):
    """Absolute names of the package modules that ``path`` imports."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            names.append(name)
            names += [f"{name}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return names


def test_library_never_imports_the_study():
    shims = {PACKAGE.joinpath(*old.split(".")[1:]).with_suffix(".py") for old in MOVED}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in ("study", "__main__.py") or path in shims:
            continue
        imports = _imported_modules(path)
        study = [n for n in imports if n.startswith("braindecode_augnet.study")]
        if rel == pathlib.Path("sequences.py"):  # lazy re-export of moved names
            study = [n for n in study if not n.endswith(("study", "study.stager"))]
        assert not study, f"{rel} imports the study: {study}"
