"""Uploaded files: product photos and price-evidence documents.

Photos are accepted only as JPEG, PNG or WebP up to 5 MB, checked by Pillow (not
by their name or the browser's content type), then re-encoded: that drops
whatever else the file carried (EXIF with GPS positions, trailing data) and
gives two JPEGs, at most 1200px and a 400px thumbnail. Evidence documents are
PDFs (checked by their header) or images (re-encoded the same way). Files live
under the instance folder: photos are public, evidence is served only to the
supplier and the administrators who review it.
"""

from __future__ import annotations

import io
import os
import secrets
import warnings
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ValidationFailed

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # far above any phone photo, far below a decompression bomb
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP"}
FULL_SIZE = 1200
THUMB_SIZE = 400
EVIDENCE_IMAGE_SIZE = 2000


class UploadTooLarge(ValidationFailed):
    status = 413
    code = "upload_too_large"


def media_root() -> Path:
    return Path(current_app.config.get("SHOP_MEDIA_ROOT") or Path(current_app.instance_path) / "media")


def product_image_dir() -> Path:
    return media_root() / "products"


def evidence_dir() -> Path:
    return media_root() / "evidence"


def read_upload(file_storage, *, field: str) -> bytes:
    """The upload's bytes, refusing an empty or oversized file before reading it all."""
    if file_storage is None or not getattr(file_storage, "filename", ""):
        raise ValidationFailed(_("Choose a file to upload."), field=field)
    data = file_storage.stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(_("The file is larger than 5 MB."), field=field)
    if not data:
        raise ValidationFailed(_("The file is empty."), field=field)
    return data


def open_image(data: bytes, *, field: str) -> Image.Image:
    """Decode ``data`` as a JPEG, PNG or WebP image, or refuse it with a message a person can read."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(_("The file is larger than 5 MB."), field=field)
    refused = ValidationFailed(_("Upload a JPEG, PNG or WebP image."), field=field)
    try:
        with warnings.catch_warnings():
            # A decompression bomb is refused, not merely warned about.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in IMAGE_FORMATS:
                raise refused
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationFailed(_("The image has too many pixels; use one under 40 megapixels."), field=field)
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise refused from exc
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg_bytes(image: Image.Image, max_side: int) -> tuple[bytes, int, int]:
    copy = image.copy()
    copy.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue(), copy.width, copy.height


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def new_key() -> str:
    return secrets.token_hex(16)


def save_product_image(data: bytes) -> tuple[str, int, int]:
    """Re-encode a photo into its full size and thumbnail files; returns (key, width, height)."""
    image = _to_rgb(open_image(data, field="image"))
    full, width, height = _jpeg_bytes(image, FULL_SIZE)
    thumb, _w, _h = _jpeg_bytes(image, THUMB_SIZE)
    key = new_key()
    folder = product_image_dir()
    _write_atomically(folder / f"{key}.jpg", full)
    _write_atomically(folder / f"{key}_thumb.jpg", thumb)
    return key, width, height


def remove_product_image_files(key: str) -> None:
    for name in (f"{key}.jpg", f"{key}_thumb.jpg"):
        try:
            (product_image_dir() / name).unlink()
        except FileNotFoundError:
            pass


def save_evidence_document(data: bytes) -> str:
    """Keep a contract or invoice: a PDF as it is (after checking its header), an image re-encoded."""
    key = new_key()
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise ValidationFailed(_("The PDF file is incomplete."), field="document")
        name = f"{key}.pdf"
        _write_atomically(evidence_dir() / name, data)
        return name
    try:
        image = _to_rgb(open_image(data, field="document"))
    except UploadTooLarge:
        raise
    except ValidationFailed as exc:
        raise ValidationFailed(_("Upload the contract or invoice as a PDF or a JPEG, PNG or WebP image."),
                               field="document") from exc
    body, _w, _h = _jpeg_bytes(image, EVIDENCE_IMAGE_SIZE)
    name = f"{key}.jpg"
    _write_atomically(evidence_dir() / name, body)
    return name
