"""The explorer's web app: one page (static/, ours, no CDN) and a JSON API over an `Explorer`.

Security: the run directory is fixed when the app is made; no request names a file or carries code. Request
bodies are read up to MAX_BODY bytes, uploaded images up to MAX_IMAGE_SIDE pixels a side, typed text up to
MAX_TEXT_CHARS characters (tokenized, never evaluated), counts and beam widths are bounded, and every field is
checked: bad input gets a 4xx with {"error": message}, and the server goes on serving.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import re
from importlib.resources import files

import numpy as np
import torch
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from vaekit.errors import VaekitError
from vaekit.explore.sequences import MAX_BEAM_WIDTH, MAX_NEIGHBOURS, MAX_TEXT_CHARS, Decoding
from vaekit.explore.state import Explorer, image_to_tensor
from vaekit.run import Run
from vaekit.views import view_of

MAX_BODY = 2_000_000  # bytes of a request body (a drawn 280x280 PNG is ~20 kB)
MAX_IMAGE_SIDE = 1024  # pixels, each side of an uploaded image
MAX_STEPS = 32  # interpolation steps
MAX_DRAWS = 16  # draws from q(z|x)
MAX_Z = 1e3  # |z_d| of a latent vector to decode
MAX_DEPTH = 8  # nesting of a request's JSON (a code grid is 2 deep inside the body's object)
MAX_DIGITS = 20  # digits of a JSON integer: seeds and indices need 10, and any such integer converts to a float
STATIC = files("vaekit.explore") / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class BadRequest(HTTPException):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(status_code=status, detail=message)


async def read_json(request: Request) -> dict:
    """The request's JSON object, read up to MAX_BODY bytes (413 beyond) and parsed with limits (400 otherwise)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise BadRequest(f"request body too large: at most {MAX_BODY} bytes.", 413)
    body = bytearray()
    async for chunk in request.stream():  # a chunked body has no Content-Length: counted as it arrives
        body += chunk
        if len(body) > MAX_BODY:
            raise BadRequest(f"request body too large: at most {MAX_BODY} bytes.", 413)
    return parse_json(bytes(body))


def parse_json(body: bytes) -> dict:
    """A request body as a JSON object, refused (BadRequest) when it nests deeper than MAX_DEPTH, holds an
    integer of more than MAX_DIGITS digits or NaN/Infinity (not JSON), or is not a JSON object at all.

    The depth is measured before parsing, so the parser never recurses deeply; the integer bound keeps every
    number convertible to a float downstream.
    """
    if nesting_depth(body) > MAX_DEPTH:
        raise BadRequest(f"the request body nests arrays or objects more than {MAX_DEPTH} deep.")
    try:
        data = json.loads(body or b"{}", parse_int=_bounded_int, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("the request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object.")
    return data


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # a JSON string, escapes included
_OPEN, _CLOSE = np.frombuffer(b"[{", dtype=np.uint8), np.frombuffer(b"]}", dtype=np.uint8)


def nesting_depth(body: bytes) -> int:
    """How deep arrays and objects nest in a JSON text (brackets inside strings do not count), in one pass."""
    text = np.frombuffer(_STRING.sub(b'""', body), dtype=np.uint8)
    step = np.isin(text, _OPEN).astype(np.int64) - np.isin(text, _CLOSE)
    return int(np.cumsum(step).max(initial=0))


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise BadRequest(f"the request body holds an integer of {digits} digits: at most {MAX_DIGITS}.")
    return int(text)


def _no_constant(name: str) -> float:
    raise BadRequest(f"the request body holds {name}, which JSON does not allow: give finite numbers.")


def integer(data: dict, name: str, low: int, high: int, default: int | None = None) -> int:
    """data[name] as an int in [low, high] (or `default` when absent and a default is given)."""
    value = data.get(name, default)
    if value is None:
        raise BadRequest(f"'{name}' is required: an integer from {low} to {high}.")
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"'{name}' must be an integer from {low} to {high}, got {json.dumps(value)[:40]}.")
    return value


def choice(data: dict, name: str, options: tuple[str, ...], default: str) -> str:
    value = data.get(name, default)
    if value not in options:
        raise BadRequest(f"'{name}' must be one of {', '.join(options)}, got {json.dumps(value)[:40]}.")
    return value


def text_field(data: dict, name: str) -> str:
    """data[name] as a non-empty string of at most MAX_TEXT_CHARS characters (a sentence to tokenize)."""
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"'{name}' is required: a sentence (text of 1 to {MAX_TEXT_CHARS} characters).")
    if len(value) > MAX_TEXT_CHARS:
        raise BadRequest(f"'{name}' is {len(value)} characters long: at most {MAX_TEXT_CHARS}.", 413)
    return value


def grid(data: dict, name: str, shape: tuple[int, int], low: int, high: int) -> torch.Tensor:
    """data[name] as an (h, w) grid of integers in [low, high]: an int64 tensor."""
    value = data.get(name)
    rows, cols = shape
    ok = isinstance(value, list) and len(value) == rows
    ok = ok and all(isinstance(r, list) and len(r) == cols for r in value)
    ok = ok and all(isinstance(c, int) and not isinstance(c, bool) and low <= c <= high for r in value for c in r)
    if not ok:
        raise BadRequest(f"'{name}' must be a {rows}x{cols} list of lists of integers from {low} to {high}.")
    return torch.tensor(value, dtype=torch.int64)


def decode_image(data: dict, shape: tuple[int, int, int]) -> torch.Tensor:
    """The uploaded image of data["image"] (a base64 string or a data: URI) as (1, C, H, W) floats in [0, 1]."""
    from PIL import Image, UnidentifiedImageError

    value = data.get("image")
    if not isinstance(value, str) or not value:
        raise BadRequest("'image' is required: a PNG/JPEG image as a data: URI or a base64 string.")
    if value.startswith("data:"):
        value = value.partition(",")[2]
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("'image' is not valid base64.") from None
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if max(image.size) > MAX_IMAGE_SIDE:
                raise BadRequest(f"the image is {image.size[0]}x{image.size[1]}: at most {MAX_IMAGE_SIDE} a side.", 413)
            image.load()
            invert = data.get("invert", False)
            if not isinstance(invert, bool):
                raise BadRequest("'invert' must be true or false.")
            return image_to_tensor(image, shape, invert)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError):
        raise BadRequest("'image' is not an image that can be read (give a PNG or JPEG).") from None


def create_app(run: Run, explorer: Explorer | None = None) -> Starlette:
    """The explorer app of one run (its test set is encoded here, once)."""
    ex = explorer or Explorer(run)
    caps = ex.caps

    def needs(capability: str, what: str) -> None:
        if capability not in caps:
            model_type = run.config.model.type
            raise BadRequest(f"{what} needs a model with {capability}; this run's model.type is {model_type}.", 404)

    def data_words() -> str:
        return f"{run.spec.kind} data ({view_of(run.spec).shape_text(run.spec)})"

    def needs_images(what: str) -> None:
        # refused before the body is read: nothing a table or text run could do with it
        if not ex.kind.image_tools:
            word = run.spec.facts.example_word
            raise BadRequest(
                f"{what} needs a run on images; this run models {data_words()}. Pick a test {word} on the map or move "
                "the sliders instead.",
                404,
            )

    def needs_text(what: str) -> None:
        if not ex.kind.text_tools:
            raise BadRequest(f"{what} needs a run on text; this run models {data_words()}.", 404)

    def decoding_of(data: dict) -> Decoding | None:
        """How to decode a sentence: 'decoding' (greedy | beam) and 'beam_width'; refused by kinds without a choice."""
        if not ex.kind.decodings:
            if "decoding" in data or "beam_width" in data:
                raise BadRequest(f"this run's {run.spec.facts.example_word}s have one decoding: give no 'decoding'.")
            return None
        method = choice(data, "decoding", ex.kind.decodings, ex.kind.decodings[0])
        width = integer(data, "beam_width", 1, MAX_BEAM_WIDTH, default=4)
        return Decoding(method, width if method == "beam" else 1)

    def label_of(data: dict) -> int | None:
        if not ex.num_classes:
            if data.get("label") is not None:
                raise BadRequest("this run's model takes no label.")
            return None
        return integer(data, "label", 0, ex.num_classes - 1, default=0)

    def latent(data: dict) -> list[float]:
        dim = len(ex.ranking.score)
        z = data.get("z")
        ok = isinstance(z, list) and len(z) == dim
        ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in z)
        if not ok or not all(math.isfinite(v) and abs(v) <= MAX_Z for v in z):
            raise BadRequest(f"'z' must be a list of {dim} finite numbers, each within +-{MAX_Z:g}.")
        return [float(v) for v in z]

    async def index(request: Request) -> Response:
        return FileResponse(str(STATIC / "index.html"))

    async def favicon(request: Request) -> Response:  # browsers ask for /favicon.ico whatever the page links
        return FileResponse(str(STATIC / "favicon.svg"), media_type="image/svg+xml")

    async def info(request: Request) -> Response:
        return JSONResponse(ex.info())

    async def decode(request: Request) -> Response:
        needs("latent_vector", "decoding a latent vector")
        data = await read_json(request)
        z, label, decoding = latent(data), label_of(data), decoding_of(data)
        seed = None
        if data.get("resample") is not None:
            needs("layers", "redrawing lower layers")
            seed = integer(data, "resample", 0, 2**31 - 1)
        return JSONResponse(await run_in_threadpool(ex.decode, z, label, seed, decoding))

    async def latent_map(request: Request) -> Response:
        needs("latent_vector", "the latent map")
        label = label_of(_int_query(request, "label"))
        return JSONResponse(await run_in_threadpool(ex.map_view, label))

    async def test_image(request: Request) -> Response:
        data = await read_json(request)
        index = integer(data, "index", 0, ex.test.x.shape[0] - 1)
        return JSONResponse(await run_in_threadpool(ex.test_image, index))

    async def interpolate(request: Request) -> Response:
        needs("latent_vector", "interpolation")
        data = await read_json(request)
        last = ex.test.x.shape[0] - 1
        a, b = integer(data, "a", 0, last), integer(data, "b", 0, last)
        steps = integer(data, "steps", 2, MAX_STEPS, default=10)
        mode = choice(data, "mode", ("linear", "spherical"), "linear")
        return JSONResponse(await run_in_threadpool(ex.interpolate, a, b, steps, mode))

    async def own_image(request: Request) -> Response:
        needs_images("encoding your own image (and finding its nearest training images)")
        data = await read_json(request)
        x = decode_image(data, run.data_shape)
        draws = integer(data, "draws", 1, MAX_DRAWS, default=8)
        seed = integer(data, "seed", 0, 2**31 - 1, default=0)
        label = label_of(data)
        return JSONResponse(await run_in_threadpool(ex.own_image, x, draws, seed, label))

    async def own_text(request: Request) -> Response:
        needs_text("encoding a typed sentence (and finding its nearest training sentences)")
        needs("latent_vector", "encoding a typed sentence")
        data = await read_json(request)
        text = text_field(data, "text")
        neighbours = integer(data, "neighbours", 1, MAX_NEIGHBOURS, default=5)
        decoding = decoding_of(data)
        return JSONResponse(await run_in_threadpool(ex.own_text, text, neighbours, decoding))

    async def interpolate_text(request: Request) -> Response:
        needs_text("interpolating between typed sentences")
        needs("latent_vector", "interpolation")
        data = await read_json(request)
        a, b = text_field(data, "a"), text_field(data, "b")
        steps = integer(data, "steps", 2, MAX_STEPS, default=8)
        decoding = decoding_of(data)
        return JSONResponse(await run_in_threadpool(ex.interpolate_texts, a, b, steps, decoding))

    def code_grid(data: dict, name: str) -> torch.Tensor:
        return grid(data, name, tuple(run.model.code_shape), 0, run.model.num_codes - 1)

    async def decode_codes(request: Request) -> Response:
        needs("codes", "decoding a code map")
        data = await read_json(request)
        return JSONResponse(await run_in_threadpool(ex.decode_codes, code_grid(data, "codes")))

    async def resample_codes(request: Request) -> Response:
        needs("codes", "resampling codes")
        data = await read_json(request)
        codes = code_grid(data, "codes")
        mask = grid(data, "mask", tuple(run.model.code_shape), 0, 1).bool()
        seed = integer(data, "seed", 0, 2**31 - 1, default=0)
        return JSONResponse(await run_in_threadpool(ex.resample_codes, codes, mask, seed))

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    async def vaekit_error(request: Request, exc: VaekitError) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=400)

    routes = [
        Route("/", index),
        Route("/favicon.ico", favicon),
        Route("/api/info", info),
        Route("/api/map", latent_map),
        Route("/api/decode", decode, methods=["POST"]),
        Route("/api/test", test_image, methods=["POST"]),
        Route("/api/interpolate", interpolate, methods=["POST"]),
        Route("/api/image", own_image, methods=["POST"]),
        Route("/api/text", own_text, methods=["POST"]),
        Route("/api/interpolate_text", interpolate_text, methods=["POST"]),
        Route("/api/decode_codes", decode_codes, methods=["POST"]),
        Route("/api/resample_codes", resample_codes, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]
    handlers = {HTTPException: http_error, VaekitError: vaekit_error}
    app = Starlette(routes=routes, exception_handlers=handlers, middleware=[Middleware(SecurityHeaders)])
    app.state.explorer = ex
    return app


class SecurityHeaders:
    """ASGI middleware: every response gets SECURITY_HEADERS (the page may load nothing from another origin)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _int_query(request: Request, name: str) -> dict:
    """A query parameter that must be an integer, parsed (left out when absent)."""
    value = request.query_params.get(name)
    if value is None:
        return {}
    try:
        return {name: int(value)}
    except ValueError:
        raise BadRequest(f"'{name}' must be an integer, got {value[:40]!r}.") from None
