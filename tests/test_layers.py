"""The packages' arrows point one way: model/ (inference) <- training/ <- eval/, and the `arabic-topics`
command (arabic_topics.py) above all three. Read from the source with ast, so that an import inside a
function counts as much as one at the top."""
import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]
LAYERS = {"model": 0, "training": 1, "eval": 2}


def imports(package: str) -> set[tuple[str, str]]:
    """(module, package it imports from) for every import in `package` that names one of ours."""
    ours = set(LAYERS) | {"arabic_topics"}
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                roots = {package if node.level else (node.module or "").split(".")[0]}
            elif isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            else:
                continue
            found |= {(module, root) for root in roots & ours}
    return found


def test_no_package_imports_a_layer_above_it():
    upward = sorted((module, target) for package in LAYERS for module, target in imports(package)
                    if target == "arabic_topics" or LAYERS[target] > LAYERS[package])
    assert not upward, upward


def test_the_command_module_imports_subcommands_only_when_they_run():
    tree = ast.parse((ROOT / "arabic_topics.py").read_text(encoding="utf-8"))
    top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    ours = [node.module for node in top_level if isinstance(node, ast.ImportFrom) and node.module
            and node.module.split(".")[0] in LAYERS]
    assert ours == ["model.errors"]  # the one-line error writer; each subcommand's module is imported on use
