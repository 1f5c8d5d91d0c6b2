"""The need categories and family roles the catalogue may use (from the shared taxonomy)."""

from nlu.taxonomy import FAMILIARI, NEED_CATEGORIES

__all__ = ["FAMILIARI", "NEED_CATEGORIES"]
