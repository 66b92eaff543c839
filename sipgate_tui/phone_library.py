"""The parts of ``phonenumbers`` that reading a number needs, without the rest of the package.

``import phonenumbers`` runs the package's ``__init__``, which imports every part of the
library: the as-you-type formatter, the number matcher (a dozen regular expressions compiled at
import) and more. Reading, checking and formatting one number needs ``phonenumberutil`` and
``shortnumberinfo`` only; the rest costs about 10 ms on every one-shot dial (measured with
benchmarks/run.py against the same dial with the whole package).

So, where ``phonenumbers`` is not imported yet, the package's module is created without running
its ``__init__``, and the two parts are imported from it. The ``__init__`` still runs, once, the
moment anything asks the package for a name it does not have yet (``import phonenumbers`` and
``phonenumbers.AsYouTypeFormatter`` elsewhere in the app keep working as always). Only numbers.py
imports this module, inside its functions.
"""

from __future__ import annotations

import importlib.util
import sys


def _package_without_init() -> None:
    """Put ``phonenumbers`` in ``sys.modules`` with its ``__init__`` deferred to its first use."""
    if "phonenumbers" in sys.modules:
        return
    spec = importlib.util.find_spec("phonenumbers")
    if spec is None or spec.loader is None:
        return  # not installed: the imports below raise the usual ImportError
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def run_init_on_first_use(name: str) -> object:
        del package.__dict__["__getattr__"]
        loader.exec_module(package)
        return getattr(package, name)

    package.__getattr__ = run_init_on_first_use  # type: ignore[method-assign]
    sys.modules["phonenumbers"] = package


_package_without_init()

# After the package is in place (hence E402): these import its parts, not its __init__; at
# module level (TID253) because this module is itself imported only inside functions.
from phonenumbers.phonemetadata import PhoneMetadata  # noqa: E402, TID253
from phonenumbers.phonenumberutil import (  # noqa: E402, TID253
    SUPPORTED_REGIONS,
    NumberParseException,
    PhoneNumberFormat,
    ValidationResult,
    format_number,
    is_possible_number_with_reason,
    is_valid_number,
    number_type,
    parse,
    region_code_for_number,
)
from phonenumbers.shortnumberinfo import is_emergency_number  # noqa: E402, TID253

__all__ = [
    "SUPPORTED_REGIONS",
    "NumberParseException",
    "PhoneMetadata",
    "PhoneNumberFormat",
    "ValidationResult",
    "format_number",
    "is_emergency_number",
    "is_possible_number_with_reason",
    "is_valid_number",
    "number_type",
    "parse",
    "region_code_for_number",
]
