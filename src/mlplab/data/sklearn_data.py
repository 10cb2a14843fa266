"""scikit-learn's datasets as sources: its bundled tables (no download) and its generators.

scikit-learn is imported inside each source, so config validation, which imports the source
registry, stays fast.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mlplab.data.dataset import Dataset, classification, feature_names, regression

# Source name -> (sklearn.datasets loader, regression target name; None: the bunch's classes).
BUNDLED: dict[str, tuple[str, str | None]] = {
    "digits": ("load_digits", None),  # 8x8 handwritten digits: 1797 rows, 64 pixels, 10 classes
    "breast_cancer": ("load_breast_cancer", None),  # Wisconsin: 569 rows, 30 features, binary
    "diabetes": ("load_diabetes", "progression"),  # 442 rows, 10 features, regression
    "iris": ("load_iris", None),  # iris flowers: 150 rows, 4 features, 3 classes
    "wine": ("load_wine", None),  # wine recognition: 178 rows, 13 features, 3 classes
}


def bundled(loader: str, target: str | None) -> Callable[[], Dataset]:
    """A source without arguments that loads the bundled table `loader` (see BUNDLED)."""

    def load() -> Dataset:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader)()
        if target is not None:
            return regression(bunch.data, bunch.target, target, bunch.feature_names)
        return classification(bunch.data, bunch.target, bunch.target_names, bunch.feature_names)

    load.__name__ = load.__qualname__ = loader.removeprefix("load_")
    load.__doc__ = f"scikit-learn's bundled table sklearn.datasets.{loader}()."
    return load


def multilabel(*, n_samples: int, n_features: int, n_labels: int, seed: int) -> Dataset:
    """Synthetic multi-label data (make_multilabel_classification): several labels per row."""
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(
        n_samples=n_samples, n_features=n_features, n_classes=n_labels, random_state=seed
    )
    return Dataset(
        X=np.ascontiguousarray(X, dtype=np.float32),
        y=np.ascontiguousarray(Y, dtype=np.int64),
        meta={
            "task": "multilabel",
            "class_names": [f"label_{i}" for i in range(n_labels)],
            "feature_names": feature_names(X),
        },
    )


def circles(*, n_samples: int, noise: float, factor: float, seed: int) -> Dataset:
    """Two concentric circles (make_circles); class 1 is the inner circle."""
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=n_samples, noise=noise, factor=factor, random_state=seed)
    return classification(X, y, ["outer", "inner"])


def moons(*, n_samples: int, noise: float, seed: int) -> Dataset:
    """Two interleaving half-moons (make_moons)."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return classification(X, y, ["upper", "lower"])


def blobs(
    *, n_samples: int, centers: int, n_features: int, cluster_std: float, seed: int
) -> Dataset:
    """Isotropic Gaussian blobs (make_blobs), one class per center."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(
        n_samples=n_samples,
        centers=centers,
        n_features=n_features,
        cluster_std=cluster_std,
        random_state=seed,
    )
    return classification(X, y, [str(c) for c in range(centers)])
