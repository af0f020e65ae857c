"""glassfit: the Karpov–Klinger–Ignat'ev soft-potential theory of glasses below 1 K, as a data-fitting toolkit.

Importing the package is cheap; the physics lives in submodules
(:mod:`glassfit.potential`, :mod:`glassfit.spectrum`, :mod:`glassfit.tables`).
"""

__version__ = "0.1.0"
