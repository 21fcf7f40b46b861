"""Framework layers over the wedgecore kernels, one module per framework.

Installed as ``wedgecore.adapters``; each module imports its framework only
when it is itself imported.
"""
