"""Package attributes imported on first use, so `import apptk.applications` and the CLI's
start stay free of TensorFlow until a pipeline is actually used (PEP 562)."""

import importlib


def lazy_exports(package: str, exports: dict[str, str]):
    """`(__getattr__, __dir__)` for a package whose `exports` map names to their modules.

    Args:
        package: the package's `__name__`.
        exports: public name → module (relative to `package`) that defines it.
    """

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        globals_of_package = importlib.import_module(package).__dict__
        globals_of_package[name] = value
        return value

    def __dir__():
        return sorted(exports)

    return __getattr__, __dir__
