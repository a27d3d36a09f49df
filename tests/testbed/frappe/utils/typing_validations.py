"""Argument types of whitelisted functions (v15: frappe/utils/typing_validations.py).

A whitelisted function's annotated parameters are validated, and converted, with pydantic in its
lax mode when it is called in a request (or a test): "5" becomes 5 for an `int`, "0" is accepted
for a `bool` (which also takes ints and floats), and a parameter's default value's type is always
accepted. A value that does not fit raises FrappeTypeError (HTTP 417).
"""

from functools import lru_cache, wraps
from inspect import Parameter, signature
from typing import ForwardRef, Union

from pydantic import ConfigDict, TypeAdapter, ValidationError

from frappe.exceptions import FrappeTypeError

BOOL_ACCEPTS = (int, bool, float)


def validate_argument_types(func, apply_condition=lambda: True):
	@wraps(func)
	def wrapper(*args, **kwargs):
		if apply_condition():
			args, kwargs = transform_parameter_types(func, args, kwargs)
		return func(*args, **kwargs)

	return wrapper


@lru_cache(maxsize=2048)
def _adapter(annotation):
	return TypeAdapter(annotation, config=ConfigDict(arbitrary_types_allowed=True))


def _unchecked(annotation) -> bool:
	# forward references and string annotations are not resolved, as in v15
	return isinstance(annotation, ForwardRef | str) or any(
		isinstance(arg, ForwardRef | str) for arg in getattr(annotation, "__args__", ())
	)


def transform_parameter_types(func, args: tuple, kwargs: dict):
	annotations = {name: a for name, a in func.__annotations__.items() if name != "return"}
	if not (args or kwargs) or not annotations:
		return args, kwargs
	parameters = signature(func).parameters
	bound = signature(func).bind_partial(*args, **kwargs)
	for name, value in list(bound.arguments.items()):
		annotation = annotations.get(name)
		if annotation is None or _unchecked(annotation):
			continue
		accepted = Union[BOOL_ACCEPTS] if annotation is bool else annotation  # noqa: UP007
		default = parameters[name].default
		if default is not Parameter.empty:
			accepted = Union[accepted, type(default)]  # noqa: UP007
		try:
			bound.arguments[name] = _adapter(accepted).validate_python(value)
		except (TypeError, ValidationError) as e:
			raise FrappeTypeError(
				f"Argument '{name}' should be of type '{getattr(annotation, '__name__', annotation)}' "
				f"but got '{type(value).__name__}' instead."
			) from e
	return bound.args, bound.kwargs
