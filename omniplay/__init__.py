"""omniplay: warehouse-native customer orchestration (shared core)."""

__version__ = "0.1.0"
