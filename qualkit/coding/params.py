"""Parameter checks for the coders: scikit-learn's validation helpers behind one small, public surface.

scikit-learn declares its estimators' parameter constraints with helpers that live in private modules
(``sklearn.utils._param_validation``). Every coder imports them from here, so a change in scikit-learn
touches one file, and a wrong parameter gives one uniform :class:`~qualkit.errors.InvalidInput`.

Example:
    >>> from sklearn.base import BaseEstimator
    >>> class Demo(BaseEstimator):
    ...     _parameter_constraints = {"alpha": [UNIT_INTERVAL]}
    ...     def __init__(self, alpha=0.5):
    ...         self.alpha = alpha
    >>> validate_params(Demo(alpha=2.0))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    qualkit.errors.InvalidInput: The 'alpha' parameter of Demo must be a float in the range [0, 1]. Got 2.0 instead.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import check_is_fitted

from qualkit.errors import InvalidInput

__all__ = ["FOLDS", "NON_NEGATIVE", "NON_NEGATIVE_INT", "POSITIVE", "POSITIVE_INT", "REAL", "UNIT_INTERVAL",
           "Interval", "StrOptions", "check_is_fitted", "options", "validate_params"]

UNIT_INTERVAL = Interval(Real, 0, 1, closed="both")
NON_NEGATIVE = Interval(Real, 0, None, closed="left")
POSITIVE = Interval(Real, 0, None, closed="neither")
REAL = Interval(Real, None, None, closed="neither")
POSITIVE_INT = Interval(Integral, 1, None, closed="left")
NON_NEGATIVE_INT = Interval(Integral, 0, None, closed="left")
FOLDS = Interval(Integral, 2, None, closed="left")


def options(*values: str) -> StrOptions:
    """A constraint: one of these strings.

    Example:
        >>> "lower" in options("lower", "remove").options
        True
    """
    return StrOptions(set(values))


def validate_params(estimator: Any) -> None:
    """Check an estimator's ``get_params`` against its ``_parameter_constraints``; one clear error if one is wrong."""
    try:
        validate_parameter_constraints(estimator._parameter_constraints, estimator.get_params(deep=False),
                                       caller_name=type(estimator).__name__)
    except InvalidParameterError as error:
        raise InvalidInput(str(error), fix=f"see help(qualkit.{type(estimator).__name__}) for the allowed values") from None
