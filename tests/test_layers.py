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


def module_graph() -> dict[str, set[str]]:
    """Each module of model/, training/ and eval/ -> the modules of ours it imports at its top level (imports
    inside functions run later, on use, and cannot form an import-time cycle)."""
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
               for package in LAYERS for p in (ROOT / package).rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                submodules = [f"{base}.{alias.name}" for alias in node.names]
                # `from . import backends` imports a submodule; `from model import TopicClassifier`, the package
                candidates = submodules if all(m in modules for m in submodules) else submodules + [base]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            targets |= {c for c in candidates if c in modules and c != name}
        graph[name] = targets
    return graph


def test_no_import_cycle_between_modules():
    graph, state, cycles = module_graph(), {}, []

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles
