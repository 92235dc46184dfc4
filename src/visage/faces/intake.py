"""Request bodies that carry face images: multipart files or JSON base64, same fields.

`image_body(Fields, "image")` is a dependency returning the other fields validated by the
Pydantic model `Fields` and the raw image bytes; the (sync) route decodes them with
`visage.core.images`, off the event loop.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from visage.config import Settings, get_settings
from visage.core.errors import PayloadTooLarge, ValidationFailed
from visage.core.images import DecodedImage, ImageLimits, decode_base64_image, decode_image

FieldsT = TypeVar("FieldsT", bound=BaseModel)


@dataclass(frozen=True)
class ImageBody(Generic[FieldsT]):
    fields: FieldsT
    images: list[bytes]

    def decoded(self, settings: Settings) -> list[DecodedImage]:
        limits = ImageLimits.from_settings(settings)
        return [decode_image(data, limits) for data in self.images]


def _missing(field: str, count: str) -> ValidationFailed:
    return ValidationFailed(
        f"Send {count} as the multipart file field `{field}` or as JSON "
        f'{{"{field}": "<base64>"}} (a `data:` prefix is fine).',
        details=[{"field": field, "message": "an image is required"}],
    )


def _fields(model: type[FieldsT], values: dict[str, Any]) -> FieldsT:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise ValidationFailed(
            details=[
                {
                    "field": ".".join(str(p) for p in item["loc"]),
                    "message": item["msg"],
                    "type": item["type"],
                }
                for item in error.errors()
            ]
        ) from error


async def _from_multipart(
    request: Request, field: str, max_images: int
) -> tuple[list[bytes], dict[str, Any]]:
    form = await request.form(max_files=max_images, max_fields=20)
    images: list[bytes] = []
    values: dict[str, Any] = {}
    for name, value in form.multi_items():
        if name == field:
            images.append(
                await value.read() if isinstance(value, UploadFile) else decode_base64_image(value)
            )
        elif isinstance(value, str):
            values[name] = value
    return images, values


async def _from_json(request: Request, field: str) -> tuple[list[bytes], dict[str, Any]]:
    try:
        values = json.loads(await request.body())
    except ValueError as error:
        raise ValidationFailed("The body is not valid JSON.") from error
    if not isinstance(values, dict):
        raise ValidationFailed("The body must be a JSON object.")
    encoded = values.pop(field, None)
    encoded_list = encoded if isinstance(encoded, list) else [encoded]
    if not all(isinstance(item, str) for item in encoded_list):
        raise ValidationFailed(
            details=[{"field": field, "message": "base64 image strings are expected"}]
        )
    return [decode_base64_image(item) for item in encoded_list], values


def image_body(
    model: type[FieldsT], field: str, *, max_images: int = 1
) -> Callable[[Request], Awaitable[ImageBody[FieldsT]]]:
    """A dependency reading `field` (1..max_images images) and the other fields of `model`."""
    count = "one image" if max_images == 1 else f"1 to {max_images} images"

    async def dependency(request: Request) -> ImageBody[FieldsT]:
        limit = get_settings().max_upload_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(details={"bytes": int(declared), "max_bytes": limit})
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            images, values = await _from_multipart(request, field, max_images)
        else:
            images, values = await _from_json(request, field)
        if not 1 <= len(images) <= max_images:
            raise _missing(field, count)
        return ImageBody(_fields(model, values), images)

    return dependency


def openapi_body(model: type[BaseModel], field: str, *, max_images: int = 1) -> dict[str, Any]:
    """`openapi_extra` documenting both encodings of an image request."""
    schema = model.model_json_schema()
    properties = schema.setdefault("properties", {})
    required = [*schema.get("required", []), field]

    def image_schema(item: dict[str, Any]) -> dict[str, Any]:
        if max_images == 1:
            return item
        return {"type": "array", "items": item, "minItems": 1, "maxItems": max_images}

    as_json = {
        **schema,
        "properties": {**properties, field: image_schema({"type": "string", "format": "byte"})},
        "required": required,
    }
    as_form = {
        **schema,
        "properties": {**properties, field: image_schema({"type": "string", "format": "binary"})},
        "required": required,
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": as_form},
                "application/json": {"schema": as_json},
            },
        }
    }
