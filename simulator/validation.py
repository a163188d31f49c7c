"""Validate requests and responses against the simulator's OpenAPI documents."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
import json
from pathlib import Path
import re
from typing import Any, Final, Protocol, cast
from urllib.parse import urlsplit

from aiohttp import web
from openapi_core import Config, OpenAPI
from openapi_core.contrib.aiohttp import (
    AIOHTTPOpenAPIWebRequest,
    AIOHTTPOpenAPIWebResponse,
)
from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.paths.exceptions import OperationNotFound, PathError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import (
    InvalidParameter,
    InvalidRequestBody,
    MissingParameterError,
    MissingRequestBody,
    MissingRequiredRequestBody,
    ParameterValidationError,
    RequestBodyValidationError,
)
from openapi_core.validation.request.validators import (
    V30RequestBodyValidator,
    V30RequestParametersValidator,
)
from openapi_core.validation.schemas import oas30_read_schema_validators_factory
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from .errors import ResponseValidationError
from .models import FieldError, parse_timestamp

OPENAPI_DIR: Final = Path(__file__).parent / "openapi"
THERMOSTAT_BEHAVIOR_DOCUMENT: Final = OPENAPI_DIR / "thermostat-behavior-webhook.yaml"
PARTNER_DOCUMENT: Final = OPENAPI_DIR / "partner-endpoints.yaml"

# RFC 3986: a scheme, then only unreserved, reserved and percent-encoded
# characters.
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_BAD_PERCENT_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_RFC3339_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})"
)


def is_uri(value: object) -> bool:
    """Check the `uri` format: an absolute URI as RFC 3986 defines it.

    http and https URIs also need a host. Values that are not strings pass,
    because JSON Schema formats apply to strings only.
    """
    if not isinstance(value, str):
        return True
    scheme, colon, rest = value.partition(":")
    if not colon or not _URI_SCHEME.fullmatch(scheme):
        return False
    if not _URI_CHARACTERS.fullmatch(rest) or _BAD_PERCENT_ESCAPE.search(rest):
        return False
    try:
        parts = urlsplit(value)
        # Reading the port raises ValueError for a non-numeric or out-of-range port.
        _ = parts.port
    except ValueError:
        return False
    return scheme.lower() not in ("http", "https") or bool(parts.hostname)


def is_date_time(value: object) -> bool:
    """Check the `date-time` format: an RFC 3339 date-time with an offset."""
    if not isinstance(value, str):
        return True
    if not _RFC3339_DATE_TIME.fullmatch(value):
        return False
    try:
        parse_timestamp(value)
    except ValueError:
        return False
    return True


# openapi-core checks `uri` and `date-time` only when optional packages are
# installed, so the simulator brings its own checks.
FORMAT_VALIDATORS: Final[dict[str, Callable[[Any], bool]]] = {
    "uri": is_uri,
    "date-time": is_date_time,
}


class _SchemaError(Protocol):
    """The attributes of jsonschema's ValidationError that the simulator reads."""

    validator: Any
    validator_value: Any
    instance: Any

    @property
    def absolute_path(self) -> Sequence[str | int]:
        """Location of the invalid value in the validated document."""


@dataclass(frozen=True, slots=True)
class RequestCheck:
    """Outcome of validating one request against the OpenAPI documents."""

    # The document that defines the request's operation, None when none does.
    document: OpenAPI | None
    errors: list[FieldError]

    @property
    def valid(self) -> bool:
        """Whether an operation matched and the request conforms to it."""
        return not self.errors


@dataclass(frozen=True, slots=True)
class _DocumentValidators:
    """One OpenAPI document with its request validators."""

    document: OpenAPI
    parameters: V30RequestParametersValidator
    body: V30RequestBodyValidator


class OpenApiValidator:
    """Validate HTTP traffic against the thermostat and partner documents.

    Request checks cover path, parameters and body. The API key requirement
    is left to the simulator itself, because it distinguishes a missing key
    from an unknown or revoked one. Instances keep no per-request state, so
    one can serve several simulators.
    """

    def __init__(self) -> None:
        """Load and check the OpenAPI documents."""
        config = Config(extra_format_validators=FORMAT_VALIDATORS)
        thermostat = OpenAPI.from_file_path(
            str(THERMOSTAT_BEHAVIOR_DOCUMENT), config=config
        )
        partner = OpenAPI.from_file_path(str(PARTNER_DOCUMENT), config=config)
        self._operations = [
            _DocumentValidators(
                document,
                V30RequestParametersValidator(
                    document.spec, extra_format_validators=FORMAT_VALIDATORS
                ),
                V30RequestBodyValidator(
                    document.spec, extra_format_validators=FORMAT_VALIDATORS
                ),
            )
            for document in (thermostat, partner)
        ]
        self._envelope_validator = oas30_read_schema_validators_factory.create(
            partner.spec,
            partner.spec / "components" / "schemas" / "ApiErrorEnvelopeDto",
            extra_format_validators=FORMAT_VALIDATORS,
        )

    def validate_request(self, request: web.Request, body: bytes) -> RequestCheck:
        """Find the operation for a request and list what is wrong with it."""
        adapted = AIOHTTPOpenAPIWebRequest(request, body=body or None)
        unknown = FieldError("path", "matches no WattShift operation")
        for validators in self._operations:
            parameter_errors = list(validators.parameters.iter_errors(adapted))
            if parameter_errors and isinstance(parameter_errors[0], PathError):
                if isinstance(parameter_errors[0], OperationNotFound):
                    unknown = FieldError("method", f"{request.method} is not allowed")
                continue
            body_errors = validators.body.iter_errors(adapted)
            errors = _dedupe(
                field_error
                for error in [*parameter_errors, *body_errors]
                for field_error in _field_errors(error)
            )
            return RequestCheck(validators.document, errors)
        return RequestCheck(None, [unknown])

    def validate_response(
        self,
        request: web.Request,
        body: bytes,
        response: web.Response,
        document: OpenAPI | None,
    ) -> None:
        """Raise ResponseValidationError unless the response matches the spec.

        An error response that the operation's document does not declare is
        checked against the error envelope schema instead. That covers unknown
        paths and the thermostat_behavior document, which declares only 200.
        """
        adapted_response = AIOHTTPOpenAPIWebResponse(response)
        if document is not None:
            adapted_request = AIOHTTPOpenAPIWebRequest(request, body=body or None)
            errors = list(
                document.response_validator.iter_errors(
                    adapted_request, adapted_response
                )
            )
            if not (errors and isinstance(errors[0], ResponseNotFound)):
                if errors:
                    raise ResponseValidationError(
                        f"{request.method} {request.path} -> {response.status}: "
                        + "; ".join(_describe(error) for error in errors)
                    )
                return
        if response.status < 400:
            raise ResponseValidationError(
                f"{request.method} {request.path} -> {response.status}: "
                "no OpenAPI operation declares this response"
            )
        self.validate_error_envelope(adapted_response.data)

    def validate_error_envelope(self, body: bytes) -> None:
        """Raise ResponseValidationError unless the body is an error envelope."""
        try:
            value = json.loads(body)
        except ValueError as err:
            raise ResponseValidationError(f"error response is not JSON: {err}") from err
        try:
            self._envelope_validator.validate(value)
        except InvalidSchemaValue as err:
            raise ResponseValidationError(
                f"error response is not an ApiErrorEnvelopeDto: {_describe(err)}"
            ) from err


def _describe(error: BaseException) -> str:
    """Describe a response validation error with its schema errors."""
    cause = error.__cause__
    if isinstance(cause, InvalidSchemaValue):
        error = cause
    if isinstance(error, InvalidSchemaValue):
        field_errors = _dedupe(
            field_error
            for schema_error in error.schema_errors
            for field_error in _schema_field_errors(schema_error)
        )
        return "; ".join(str(field_error) for field_error in field_errors)
    return f"{type(error).__name__}: {error}"


def _field_errors(error: Exception) -> list[FieldError]:
    """Turn an openapi-core request error into `field_errors` items.

    Messages never contain the submitted value, because it may be a secret.
    """
    if isinstance(error, InvalidRequestBody) and isinstance(
        error.__cause__, InvalidSchemaValue
    ):
        return [
            field_error
            for schema_error in error.__cause__.schema_errors
            for field_error in _schema_field_errors(schema_error)
        ]
    if isinstance(error, MissingRequiredRequestBody):
        return [FieldError("body", "is required")]
    if isinstance(error, MissingRequestBody):
        # An optional body that was left out.
        return []
    if isinstance(error, RequestBodyValidationError):
        cause = error.__cause__
        if isinstance(cause, MediaTypeNotFound):
            return [
                FieldError(
                    "body",
                    f"must be sent as {', '.join(cause.availableMimetypes)}, "
                    f"not {cause.mimetype}",
                )
            ]
        if isinstance(cause, MediaTypeDeserializeError):
            return [FieldError("body", f"is not valid {cause.mimetype}")]
        return [FieldError("body", "is invalid")]
    if isinstance(error, MissingParameterError):
        return [FieldError(error.name, f"is a required {error.location} parameter")]
    if isinstance(error, InvalidParameter) and isinstance(
        error.__cause__, InvalidSchemaValue
    ):
        return [
            FieldError(error.name, field_error.message)
            for schema_error in error.__cause__.schema_errors
            for field_error in _schema_field_errors(schema_error)
        ]
    if isinstance(error, ParameterValidationError):
        return [FieldError(error.name, f"is not a valid {error.location} parameter")]
    return [FieldError("request", f"is invalid ({type(error).__name__})")]


def _schema_field_errors(error: Exception) -> list[FieldError]:
    """Turn one JSON Schema error into `field_errors` items."""
    # openapi-core types schema errors as Exception; they are jsonschema's.
    schema_error = cast("_SchemaError", error)
    location = _json_path(schema_error.absolute_path)
    if schema_error.validator == "required":
        instance = schema_error.instance
        present = instance if isinstance(instance, dict) else {}
        return [
            FieldError(_join_path(location, name), "is required")
            for name in schema_error.validator_value
            if name not in present
        ]
    return [FieldError(location or "body", _schema_message(schema_error))]


def _schema_message(error: _SchemaError) -> str:
    """Describe a JSON Schema error by the rule it broke, without the value."""
    rule = error.validator
    expected: Any = error.validator_value
    if rule == "type":
        types = expected if isinstance(expected, list) else [expected]
        return f"must be of type {' or '.join(types)}"
    if rule == "format":
        return f"must be a valid {expected}"
    if rule == "enum":
        return f"must be one of {', '.join(str(item) for item in expected)}"
    if rule == "nullable":
        return "must not be null"
    return f"does not satisfy '{rule}' of the schema"


def _json_path(parts: Iterable[str | int]) -> str:
    """Format a JSON location as `data[0].price`."""
    path = ""
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else _join_path(path, part)
    return path


def _join_path(parent: str, name: str) -> str:
    """Append a property name to a JSON location."""
    return f"{parent}.{name}" if parent else name


def _dedupe(errors: Iterator[FieldError]) -> list[FieldError]:
    """Drop repeated field errors and keep the first occurrence's order."""
    return list(dict.fromkeys(errors))


@cache
def default_validator() -> OpenApiValidator:
    """Return a validator shared by every simulator, loaded on first use."""
    return OpenApiValidator()
