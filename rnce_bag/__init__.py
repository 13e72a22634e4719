"""rnce-bag: brain MRI -> self-supervised representations -> brain age gap -> genetics."""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("rnce-bag")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0+unknown"
