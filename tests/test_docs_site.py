"""The documentation site builds with `mkdocs build --strict` and its API reference is generated.

Needs the `docs` extra (pip install -e '.[docs]': mkdocs-material, mkdocstrings[python]);
.ci/run installs it.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built once with --strict (a warning is a failure)."""
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        if importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed: pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_the_guides_and_tutorials_are_pages(site):
    for page in ["index", "getting-started", "coming-from-pytorch", "nn", "training", "static_graphs",
                 "visualisation", "architecture", "tutorials/computational-graphs", "tutorials/layers",
                 "tutorials/two-layer-net", "tutorials/minibatches", "tutorials/static-graphs-and-jacobians",
                 "tutorials/cnns", "cnn", "gpu", "distributed", "onnx", "textbook"]:
        assert (site / f"{page}.html").is_file(), page


@pytest.mark.parametrize("page, names", [
    ("graphgrad", ["graphgrad.Tensor", "graphgrad.autograd.tensor.tensor", "graphgrad.no_grad", "graphgrad.gradcheck", "graphgrad.save"]),
    ("autograd", ["graphgrad.autograd.grad.grad", "graphgrad.autograd.jacobian", "graphgrad.autograd.Function",
                  "graphgrad.autograd.Tensor.backward"]),
    ("nn", ["graphgrad.nn.Linear", "graphgrad.nn.Module", "graphgrad.nn.CrossEntropyLoss", "graphgrad.nn.BatchNorm1d"]),
    ("optim", ["graphgrad.optim.SGD", "graphgrad.optim.Adam", "graphgrad.optim.StepLR"]),
    ("data", ["graphgrad.data.DataLoader", "graphgrad.data.TensorDataset"]),
    ("train", ["graphgrad.train.fit", "graphgrad.train.evaluate"]),
    ("graph", ["graphgrad.graph.graph.Graph", "graphgrad.graph.node.Variable", "graphgrad.graph.optimizers.Adam"]),
    ("viz", ["graphgrad.viz.to_html", "graphgrad.viz.to_dot", "graphgrad.viz.record_modules"]),
])
def test_the_api_reference_documents_each_package(site, page, names):
    html = (site / "api" / f"{page}.html").read_text(encoding="utf-8")
    for name in names:
        assert f'id="{name}"' in html, name


def test_every_page_is_in_the_navigation():
    """mkdocs.yml's nav names every page under docs/ (the strict build also fails on one left out)."""
    yaml = pytest.importorskip("yaml", reason="PyYAML comes with the docs extra: pip install -e '.[docs]'")

    def files(entries) -> set:
        out = set()
        for entry in entries:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            out |= files(value) if isinstance(value, list) else {value}
        return out

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    pages = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    assert pages - files(config["nav"]) == set()
    assert config["validation"]["nav"]["omitted_files"] == "warn"


def test_the_site_loads_nothing_from_the_network(site):
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "fonts.googleapis.com" not in text and "<script src=\"http" not in text, page
