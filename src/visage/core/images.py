"""Safe image intake for every endpoint that accepts a picture.

Formats are checked by magic bytes (not by name or declared type), byte and pixel limits are
enforced before any pixel is decoded (decompression bombs), EXIF orientation is applied and
large images are downscaled before detection.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from visage.config import Settings
from visage.core.errors import AppError
from visage.faces.inference.base import RGBImage

# Detection gains little above this size and costs quadratically; event photos are indexed
# at this resolution (originals are kept untouched in storage).
DEFAULT_MAX_SIDE = 2048

_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1")


class ImageUnsupported(AppError):
    status_code = 415
    code = "IMAGE_001"
    default_message = "Unsupported or corrupt image: send a JPEG, PNG or WebP picture."


class ImageTooLarge(AppError):
    status_code = 413
    code = "IMAGE_002"
    default_message = "Image too large."


@dataclass(frozen=True)
class DecodedImage:
    rgb: RGBImage  # H x W x 3, EXIF-upright, downscaled to max_side
    format: str  # "jpeg" | "png" | "webp" | "heif"
    original_width: int
    original_height: int

    @property
    def scale(self) -> float:
        """Factor from original pixels to `rgb` pixels."""
        return float(self.rgb.shape[1]) / self.original_width


def sniff_format(data: bytes, *, allow_heif: bool = False) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if allow_heif and data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "heif"
    return None


def decode_base64_image(value: str) -> bytes:
    """Base64 with or without a `data:image/...;base64,` prefix."""
    if value.startswith("data:"):
        _, _, value = value.partition(",")
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImageUnsupported("The image is not valid base64.") from error


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int
    max_pixels: int
    max_side: int = DEFAULT_MAX_SIDE

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageLimits:
        return cls(max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels)


@lru_cache(maxsize=1)
def _heif_available() -> bool:
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def open_checked(
    data: bytes, limits: ImageLimits, *, allow_heif: bool = False
) -> tuple[Image.Image, str]:
    """Open (not decode) an image after the format, byte and pixel checks."""
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(
            f"Image is {len(data)} bytes; the limit is {limits.max_bytes}.",
            details={"bytes": len(data), "max_bytes": limits.max_bytes},
        )
    kind = sniff_format(data, allow_heif=allow_heif and _heif_available())
    if kind is None:
        raise ImageUnsupported()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise ImageTooLarge("Image has too many pixels.") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ImageUnsupported() from error
    # The header's size is checked before any pixel is decoded: a tiny file can claim
    # gigapixels (decompression bomb).
    if width * height > limits.max_pixels:
        raise ImageTooLarge(
            f"Image is {width}x{height} pixels; the limit is {limits.max_pixels} pixels.",
            details={"width": width, "height": height, "max_pixels": limits.max_pixels},
        )
    return image, kind


def decode_image(data: bytes, limits: ImageLimits, *, allow_heif: bool = False) -> DecodedImage:
    image, kind = open_checked(data, limits, allow_heif=allow_heif)
    try:
        image = ImageOps.exif_transpose(image) or image
        width, height = image.size
        image = image.convert("RGB")
        if max(width, height) > limits.max_side:
            image.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
        rgb = np.asarray(image, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt pixel data
        raise ImageUnsupported() from error
    return DecodedImage(rgb=rgb, format=kind, original_width=width, original_height=height)
